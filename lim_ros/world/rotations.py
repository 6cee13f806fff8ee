"""
Rotation helpers (batched, torch).

Convention: rotation matrices act on column vectors, ``x_parent = R @ x_child``; an
axis-angle vector is the rotation axis scaled by the angle in radians.
"""

import torch


def axis_angle_to_matrix(axis_angle: torch.Tensor) -> torch.Tensor:
    """
    Convert axis-angle vectors (..., 3) to rotation matrices (..., 3, 3) by Rodrigues' formula.

    Exact at zero angle (the first-order terms use sin(θ)/θ with a Taylor fallback).
    """
    theta = axis_angle.norm(dim=-1, keepdim=True)  # (..., 1)
    small = theta < 1e-6
    safe = torch.where(small, torch.ones_like(theta), theta)
    sin_by_theta = torch.where(small, 1.0 - theta**2 / 6.0, torch.sin(safe) / safe)
    one_minus_cos = torch.where(small, 0.5 - theta**2 / 24.0, (1.0 - torch.cos(safe)) / safe**2)
    x, y, z = axis_angle.unbind(-1)
    zero = torch.zeros_like(x)
    skew = torch.stack([zero, -z, y, z, zero, -x, -y, x, zero], dim=-1)
    skew = skew.reshape(*axis_angle.shape[:-1], 3, 3)
    eye = torch.eye(3, dtype=axis_angle.dtype, device=axis_angle.device)
    return (
        eye
        + sin_by_theta[..., None] * skew
        + one_minus_cos[..., None] * (skew @ skew)
    )


def random_rotation(
    generator: torch.Generator, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """Return one rotation (3, 3) drawn uniformly from SO(3) (random unit quaternion)."""
    q = torch.randn(4, generator=generator, dtype=torch.float64)
    w, x, y, z = (q / q.norm()).tolist()
    return torch.tensor(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ],
        dtype=dtype,
    )
