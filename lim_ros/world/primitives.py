"""
Rounded primitives in their own rest frame: signed distance and surface projection.

Convention: each part is centred at its local origin with its long axis along local z.
``half_extents`` (P, 3) are the half sizes along x, y, z in metres of the unit volume.
Capsules use ``half_extents[0]`` as radius and ``half_extents[2]`` as half length (tip to
centre); rounded boxes use ``rounding`` (P,) as the corner radius. Distances are exact for
capsules and rounded boxes; the ellipsoid uses the standard first-order bound (exact zero
level set, correct sign, magnitude within the axis ratio).
"""

from enum import IntEnum

import torch


class Primitive(IntEnum):
    """Kinds of part shape."""

    CAPSULE = 0
    ELLIPSOID = 1
    ROUNDED_BOX = 2


def primitive_sdf(
    points: torch.Tensor, kind: torch.Tensor, half_extents: torch.Tensor, rounding: torch.Tensor
) -> torch.Tensor:
    """
    Signed distance of points (P, N, 3), each row in part p's rest frame, to part p: (P, N).

    Negative inside. ``kind`` is (P,) of `Primitive` values.
    """
    he = half_extents[:, None, :]  # (P, 1, 3)
    radius = he[..., 0]
    half_length = (he[..., 2] - radius).clamp_min(0.0)
    axial = points[..., 2] - points[..., 2].clamp(-half_length, half_length)
    capsule = torch.sqrt(points[..., 0] ** 2 + points[..., 1] ** 2 + axial**2) - radius

    k0 = (points / he).norm(dim=-1)
    k1 = (points / he**2).norm(dim=-1).clamp_min(1e-9)
    ellipsoid = k0 * (k0 - 1.0) / k1

    r = rounding[:, None]
    q = points.abs() - (he - r[..., None])
    outside = q.clamp_min(0.0).norm(dim=-1)
    inside = q.max(dim=-1).values.clamp_max(0.0)
    box = outside + inside - r

    kind = kind[:, None]
    return torch.where(
        kind == Primitive.CAPSULE,
        capsule,
        torch.where(kind == Primitive.ELLIPSOID, ellipsoid, box),
    )


def primitive_area(kind: torch.Tensor, half_extents: torch.Tensor) -> torch.Tensor:
    """
    Approximate surface area of each part (P,), for splitting samples between parts.

    Uses the Knud Thomsen ellipsoid formula for every kind, scaled by 1.2 for boxes.
    """
    a, b, c = (half_extents**1.6).unbind(-1)
    area = 4.0 * torch.pi * ((a * b + a * c + b * c) / 3.0) ** (1.0 / 1.6)
    return torch.where(kind == Primitive.ROUNDED_BOX, 1.2 * area, area)


def project_to_surface(
    points: torch.Tensor,
    kind: torch.Tensor,
    half_extents: torch.Tensor,
    rounding: torch.Tensor,
    iterations: int = 12,
) -> torch.Tensor:
    """
    Move rest-frame points (P, N, 3) onto each part's surface by Newton steps on the SDF.

    Returns (P, N, 3) with |sdf| below about 1e-6 for the exact-distance kinds.
    """
    x = points.detach().clone()
    for _ in range(iterations):
        with torch.enable_grad():  # also inside callers' no_grad blocks
            x.requires_grad_(True)
            d = primitive_sdf(x, kind, half_extents, rounding)
            (grad,) = torch.autograd.grad(d.sum(), x)
        with torch.no_grad():
            step = d[..., None] * grad / (grad * grad).sum(dim=-1, keepdim=True).clamp_min(1e-12)
            x = x - step
    return x.detach()
