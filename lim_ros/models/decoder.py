"""
The field decoder: triplane features at a point → SDF, albedo and canonical position.

Convention: points are in the unit cube of the reconstruction volume; the SDF is in the same
units (negative inside); albedo is RGB in [0, 1]; the canonical position is where the same
material point is at the reference time of the track (for a single instant: the point itself),
predicted as an offset from the query point.
"""

from dataclasses import dataclass

from lim_ros.models.triplane import sample_planes
import torch
from torch import nn


@dataclass(frozen=True)
class FieldOutput:
    """Decoded fields at N points of B samples."""

    sdf: torch.Tensor  # (B, N)
    albedo: torch.Tensor  # (B, N, 3)
    canonical: torch.Tensor  # (B, N, 3)


class TriplaneDecoder(nn.Module):
    """MLP from plane features (3C) and the point's coordinates (3) to 1 + 3 + 3 outputs."""

    def __init__(self, plane_channels: int, hidden: int, layers: int) -> None:
        """Create ``layers`` hidden layers of width ``hidden``."""
        super().__init__()
        widths = [3 * plane_channels + 3] + [hidden] * layers
        body: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:]):
            body += [nn.Linear(a, b), nn.SiLU()]
        self.body = nn.Sequential(*body)
        self.head = nn.Linear(hidden, 7)

    def forward(self, planes: torch.Tensor, points: torch.Tensor) -> FieldOutput:
        """Decode points (B, N, 3) from planes (B, 3, C, R, R)."""
        features = torch.cat([sample_planes(planes, points), points.to(planes.dtype)], dim=-1)
        out = self.head(self.body(features))
        return FieldOutput(
            sdf=out[..., 0],
            albedo=torch.sigmoid(out[..., 1:4]),
            canonical=points + out[..., 4:7],
        )
