"""
Differentiable volume rendering of a decoded SDF field (VolSDF).

Density is ``σ = Ψ_β(-sdf) / β`` with Ψ_β the CDF of a zero-mean Laplace distribution of
scale β (Yariv et al. 2021). Rays are sampled at ``num_samples`` stratified depths between
their entry and exit of the volume [-1, 1]^3; rays missing it render as empty. Outputs are
albedo (unshaded colour), expected depth along the ray (metres from the origin, not
camera-z) and opacity (1 on the object).
"""

from dataclasses import dataclass

from lim_ros.models.decoder import FieldOutput
from lim_ros.render.sphere_tracer import ray_box
import torch


@dataclass(frozen=True)
class RayOutput:
    """Rendered values of N rays of B samples."""

    albedo: torch.Tensor  # (B, N, 3)
    distance: torch.Tensor  # (B, N) expected distance along the ray
    opacity: torch.Tensor  # (B, N)


def laplace_density(sdf: torch.Tensor, beta: float) -> torch.Tensor:
    """Return the VolSDF density of signed distances (negative inside), Laplace scale ``beta``."""
    s = -sdf
    tail = 0.5 * torch.exp(-s.abs() / beta)  # finite on both branches, so gradients are too
    return torch.where(s <= 0, tail, 1.0 - tail) / beta


def render_rays(
    field,
    origins: torch.Tensor,
    dirs: torch.Tensor,
    num_samples: int,
    beta: float,
    generator: torch.Generator | None = None,
) -> RayOutput:
    """
    Render rays (B, N, 3) through ``field(points (B, M, 3)) -> FieldOutput``.

    With a ``generator`` the samples are jittered within their strata (training); without,
    they sit at the strata's centres (evaluation).
    """
    b, n, _ = origins.shape
    near, far = ray_box(origins.reshape(-1, 3), dirs.reshape(-1, 3))
    hits = (near < far).reshape(b, n, 1)
    near = near.reshape(b, n, 1)
    far = torch.maximum(far.reshape(b, n, 1), near + 1e-4)
    steps = torch.arange(num_samples, device=origins.device, dtype=origins.dtype)
    if generator is None:
        jitter = torch.full((b, n, num_samples), 0.5, device=origins.device)
    else:
        jitter = torch.rand((b, n, num_samples), generator=generator).to(origins.device)
    t = near + (far - near) * (steps + jitter) / num_samples  # (B, N, S)
    points = origins[:, :, None] + t[..., None] * dirs[:, :, None]
    out: FieldOutput = field(points.reshape(b, n * num_samples, 3))
    sdf = out.sdf.reshape(b, n, num_samples)
    delta = (far - near) / num_samples
    alpha = (1.0 - torch.exp(-laplace_density(sdf, beta) * delta)) * hits
    transmittance = torch.cumprod(
        torch.cat([torch.ones_like(alpha[..., :1]), 1.0 - alpha[..., :-1] + 1e-7], dim=-1), dim=-1
    )
    weights = alpha * transmittance  # (B, N, S)
    albedo = (weights[..., None] * out.albedo.reshape(b, n, num_samples, 3)).sum(dim=2)
    return RayOutput(albedo=albedo, distance=(weights * t).sum(dim=-1),
                     opacity=weights.sum(dim=-1))
