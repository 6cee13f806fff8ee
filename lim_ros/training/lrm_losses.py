"""
LRM losses: 3D point supervision and rendering losses on views not given as input.

Point losses (per sample, averaged): truncated L1 on the SDF at query points (both sides
clamped to ±``truncation``) plus L1 of the SDF at true surface points (should be 0); a
class-balanced occupancy cross-entropy on the sign of the SDF (logit ``-sdf / sharpness``;
inside and outside points weigh the same in total, so thin parts are not given up to the
majority class); L1 on albedo and on canonical position at surface points. Rendering losses
on rays of novel views: L1 between the composited albedo (over a white background) and the
true albedo image, binary cross-entropy between opacity and mask, and L1 on distance along
the ray on object pixels.
"""

from dataclasses import dataclass

from lim_ros.models.decoder import FieldOutput
from lim_ros.models.volume_renderer import RayOutput
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class LossWeights:
    """Weights of each loss term (0 disables it)."""

    sdf: float = 1.0
    surface: float = 1.0
    occupancy: float = 0.1
    albedo: float = 0.5
    canonical: float = 0.5
    render_albedo: float = 0.5
    render_mask: float = 0.1
    render_depth: float = 0.1


@dataclass(frozen=True)
class RayTargets:
    """Ground truth of sampled rays (B, N)."""

    albedo: torch.Tensor  # (B, N, 3), background 1
    mask: torch.Tensor  # (B, N)
    distance: torch.Tensor  # (B, N) along the ray, 0 on background

    def to(self, device: torch.device) -> 'RayTargets':
        """Return the targets on ``device``."""
        return RayTargets(self.albedo.to(device), self.mask.to(device), self.distance.to(device))


def point_losses(
    query: FieldOutput,
    query_sdf: torch.Tensor,
    surface: FieldOutput,
    surface_colours: torch.Tensor,
    surface_canonical: torch.Tensor,
    truncation: float,
    sharpness: float = 0.05,
) -> dict[str, torch.Tensor]:
    """Return the point-supervision terms of decoded query (B, Q) and surface (B, S) points."""
    clamp = truncation
    inside = (query_sdf < 0).to(query.sdf.dtype)
    bce = F.binary_cross_entropy_with_logits(-query.sdf / sharpness, inside, reduction='none')
    n_in = inside.sum().clamp_min(1.0)
    n_out = (1.0 - inside).sum().clamp_min(1.0)
    occupancy = 0.5 * ((bce * inside).sum() / n_in + (bce * (1.0 - inside)).sum() / n_out)
    return {
        'occupancy': occupancy,
        'sdf': (query.sdf.clamp(-clamp, clamp) - query_sdf.clamp(-clamp, clamp)).abs().mean(),
        'surface': surface.sdf.abs().mean(),
        'albedo': (surface.albedo - surface_colours).abs().mean(),
        'canonical': (surface.canonical - surface_canonical).abs().mean(),
    }


def render_losses(rays: RayOutput, target: RayTargets) -> dict[str, torch.Tensor]:
    """Return the rendering terms of rays (B, N) against their targets."""
    composite = rays.albedo + (1.0 - rays.opacity[..., None])
    on_object = target.mask > 0.5
    depth = (rays.distance - target.distance).abs()[on_object]
    return {
        'render_albedo': (composite - target.albedo).abs().mean(),
        'render_mask': _binary_cross_entropy(rays.opacity, target.mask),
        'render_depth': depth.mean() if depth.numel() else depth.sum(),
    }


def _binary_cross_entropy(probability: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Return the mean BCE in float32, outside autocast (which refuses it on CUDA)."""
    with torch.autocast(probability.device.type, enabled=False):
        return F.binary_cross_entropy(probability.float().clamp(1e-4, 1 - 1e-4), target.float())


def total_loss(terms: dict[str, torch.Tensor], weights: LossWeights) -> torch.Tensor:
    """Return the weighted sum of the terms."""
    return sum(getattr(weights, name) * value for name, value in terms.items())
