"""
What the sphere tracer can render: any field with an SDF, a colour and canonical positions.

`DynamicObject` (ground truth) is one; `GridField` wraps a signed-distance grid (a
reconstruction, a visual hull) with a colour function so it renders with the same camera,
shading and background as the ground truth, for like-for-like image metrics.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from lim_ros.geometry.grid import sample_grid
import torch


class Field(Protocol):
    """A renderable field; points are (N, 3) in the volume frame, t in seconds."""

    def sdf(self, points: torch.Tensor, t: float) -> torch.Tensor:
        """Return signed distances (N,), negative inside."""

    def colour(self, points: torch.Tensor, t: float) -> torch.Tensor:
        """Return albedo (N, 3) in [0, 1]."""

    def normals(self, points: torch.Tensor, t: float) -> torch.Tensor:
        """Return unit outward normals, (N, 3)."""

    def canonical(self, points: torch.Tensor, t: float, t_ref: float) -> torch.Tensor:
        """Return positions (N, 3) of the same material at ``t_ref``."""


def central_difference_normals(
    sdf: Callable[[torch.Tensor], torch.Tensor], points: torch.Tensor, eps: float = 1e-4
) -> torch.Tensor:
    """Return unit normals (N, 3): the normalised central-difference gradient of ``sdf``."""
    offsets = eps * torch.eye(3, dtype=points.dtype, device=points.device)
    probe = torch.cat([points[:, None] + offsets, points[:, None] - offsets], dim=1)
    d = sdf(probe.reshape(-1, 3)).reshape(-1, 2, 3)
    grad = d[:, 0] - d[:, 1]
    return grad / grad.norm(dim=-1, keepdim=True).clamp_min(1e-12)


@dataclass(frozen=True)
class GridField:
    """
    A static SDF sampled on the vertex-centred grid of `lim_ros.geometry.grid`, read trilinearly.

    Points outside the grid read the nearest border value. ``colour`` maps points (N, 3) to
    albedo (N, 3). Canonical positions are the points themselves (a static field).
    """

    grid: torch.Tensor  # (R, R, R) indexed [i, j, k] = (x, y, z)
    colour_fn: Callable[[torch.Tensor], torch.Tensor]
    half_size: float = 1.0

    def sdf(self, points: torch.Tensor, t: float = 0.0) -> torch.Tensor:
        """Return the trilinear SDF, (N,), at points (N, 3)."""
        return sample_grid(self.grid, points, self.half_size)

    def colour(self, points: torch.Tensor, t: float = 0.0) -> torch.Tensor:
        """Return albedo (N, 3) from the colour function."""
        return self.colour_fn(points)

    def normals(self, points: torch.Tensor, t: float = 0.0) -> torch.Tensor:
        """Return unit normals, (N, 3), of the interpolated SDF by central differences."""
        eps = self.half_size / self.grid.shape[0]
        return central_difference_normals(self.sdf, points, eps)

    def canonical(self, points: torch.Tensor, t: float = 0.0, t_ref: float = 0.0) -> torch.Tensor:
        """Return the points themselves (a static field)."""
        return points
