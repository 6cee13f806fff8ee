"""
Triplanes: three axis-aligned feature planes over the unit cube, and sampling them.

Convention: ``planes`` is (B, 3, C, R, R) for the planes XY, XZ, YZ of the volume's unit cube
[-1, 1]^3. A point (x, y, z) reads plane XY at (x, y), XZ at (x, z), YZ at (y, z), bilinearly
(``grid_sample``, align_corners=False, zeros outside); the three features are concatenated.
"""

import torch
import torch.nn.functional as F

PLANE_AXES = ((0, 1), (0, 2), (1, 2))  # (horizontal, vertical) coordinate of each plane


def sample_planes(planes: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """Read features (B, N, 3C) of points (B, N, 3) from planes (B, 3, C, R, R)."""
    features = []
    for i, axes in enumerate(PLANE_AXES):
        grid = points[:, None, :, list(axes)]  # (B, 1, N, 2): (u → width, v → height)
        sampled = F.grid_sample(planes[:, i], grid.to(planes.dtype), mode='bilinear',
                                padding_mode='zeros', align_corners=False)
        features.append(sampled[:, :, 0].transpose(1, 2))  # (B, N, C)
    return torch.cat(features, dim=-1)
