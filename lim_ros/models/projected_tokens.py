"""
Geometry-aware triplane features: image features gathered along columns of the volume.

A cell (row i, column j) of plane p at resolution N stands for the column of the volume
through the cell's centre along the plane's normal axis. K points on the column are projected
into every view (pinhole, OpenCV), a feature map is read there, and the mean and variance over
the views that see each point — a learned, soft visual hull and photo-consistency — with the
share of views that see it are embedded per cell. The LRM adds this at two places: to its
learnable triplane tokens (N = R, reading a small CNN's features) before the transformer,
which refines them by cross-attention, and to the upsampled planes (N = R·s, reading the raw
colours), so that thin parts between token centres are seen too. Without it a small LRM must
discover projective geometry from Plücker rays alone, which takes far more training than a
CPU budget allows.
"""

from einops import rearrange
from lim_ros.models.triplane import PLANE_AXES
import torch
from torch import nn
import torch.nn.functional as F


def column_points(resolution: int, depth_samples: int, span: float = 0.9) -> torch.Tensor:
    """
    Return the points (3·N·N·K, 3) on every cell's column, ordered (plane, row, column, k).

    Row i of plane p runs along coordinate ``PLANE_AXES[p][1]`` and column j along
    ``PLANE_AXES[p][0]``, as `sample_planes` reads the planes; k runs along the normal axis,
    K points evenly from ``-span`` to ``span``.
    """
    centres = (torch.arange(resolution) + 0.5) * 2.0 / resolution - 1.0
    depths = torch.linspace(-span, span, depth_samples)
    i, j, k = torch.meshgrid(centres, centres, depths, indexing='ij')
    planes = []
    for horizontal, vertical in PLANE_AXES:
        normal = 3 - horizontal - vertical
        points = torch.zeros(*i.shape, 3)
        points[..., horizontal], points[..., vertical], points[..., normal] = j, i, k
        planes.append(points.reshape(-1, 3))
    return torch.cat(planes)


class ViewFeatures(nn.Module):
    """A small CNN (stride 2): views (B, V, 3, H, W) → feature maps (B·V, C, H/2, W/2)."""

    def __init__(self, channels: int) -> None:
        """Create two convolutions."""
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, channels, 3, stride=2, padding=1), nn.SiLU(),
                                 nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, rgb: torch.Tensor) -> torch.Tensor:
        """Compute the maps; RGB in [0, 1] is shifted to [-1, 1]."""
        return self.net(rearrange(rgb * 2.0 - 1.0, 'b v c h w -> (b v) c h w'))


class ColumnFeatures(nn.Module):
    """Feature maps and cameras → per-cell column features (B, 3·N·N, out_dim)."""

    points: torch.Tensor  # buffer (3·N·N·K, 3): `column_points`

    def __init__(self, resolution: int, depth_samples: int, channels: int, out_dim: int) -> None:
        """Create the embedding of K·(2·channels + 1) statistics per cell."""
        super().__init__()
        self.depth_samples = depth_samples
        self.register_buffer('points', column_points(resolution, depth_samples), persistent=False)
        self.embed = nn.Sequential(nn.Linear(depth_samples * (2 * channels + 1), out_dim),
                                   nn.SiLU(), nn.Linear(out_dim, out_dim))

    def forward(self, features: torch.Tensor, K: torch.Tensor, world_T_cam: torch.Tensor,
                image_size: tuple[int, int]) -> torch.Tensor:
        """
        Gather ``features`` (B·V, C, h, w) along every column.

        K (B, V, 3, 3) in pixels of images of ``image_size`` (H, W); poses (B, V, 4, 4).
        """
        v = K.shape[1]
        sampled, seen = sample_views(features, K, world_T_cam, image_size, self.points)
        weight = seen[:, :, None].to(sampled.dtype)
        count = weight.sum(dim=1)  # (B, 1, N)
        mean = (sampled * weight).sum(dim=1) / count.clamp_min(1.0)
        var = ((sampled - mean[:, None]) ** 2 * weight).sum(dim=1) / count.clamp_min(1.0)
        stats = torch.cat([mean, var, count / v], dim=1)  # (B, 2C + 1, N)
        stats = rearrange(stats, 'b c (t k) -> b t (k c)', k=self.depth_samples)
        return self.embed(stats)


def sample_views(maps: torch.Tensor, K: torch.Tensor, world_T_cam: torch.Tensor,
                 image_size: tuple[int, int], points: torch.Tensor,
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Read per-view maps (B·V, C, h, w) where points (N, 3) of the volume project.

    K (B, V, 3, 3) in pixels of images of ``image_size`` (H, W); camera-to-world poses
    (B, V, 4, 4), OpenCV. Returns the bilinear reads (B, V, C, N), zero off the image, and
    whether each view sees each point: in front of it and inside its image (B, V, N).
    """
    b = K.shape[0]
    h, w = image_size
    cam_T_world = torch.linalg.inv(world_T_cam)
    cam = torch.einsum('bvij,nj->bvni', cam_T_world[..., :3, :3], points)
    cam = cam + cam_T_world[..., None, :3, 3]
    uvw = torch.einsum('bvij,bvnj->bvni', K, cam)
    depth = uvw[..., 2:3]
    pixels = uvw[..., :2] / depth.clamp_min(1e-6)
    grid = pixels / torch.tensor([w, h], dtype=pixels.dtype, device=pixels.device) * 2 - 1
    seen = (depth[..., 0] > 1e-3) & (grid.abs() <= 1).all(dim=-1)
    sampled = F.grid_sample(maps, rearrange(grid, 'b v n two -> (b v) 1 n two'),
                            align_corners=False)
    return rearrange(sampled, '(b v) c 1 n -> b v c n', b=b), seen
