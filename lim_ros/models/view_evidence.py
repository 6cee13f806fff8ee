"""
View evidence: the classical multi-view cues of the input views, stored in the triplane.

For every cell of every plane (resolution N) and K points along the cell's column (the
plane's normal axis, at the centres of K equal slices of [-1, 1]), each input view is read
where the point projects, and six statistics over the V views are kept:

- the minimum of the foreground — a soft visual hull: 0 as soon as one view sees background
  there or does not see the point at all;
- the mean of the foreground;
- the mean colour (3) and the colour variance (summed over RGB) over the views that see the
  point — photo-consistency: a point off the surface projects onto different materials.

Foreground is read from the colour: the LRM's input convention is an object on a white
background (the renders, and the monocular generator's views), so a pixel is foreground by
how far its darkest channel is below white (``FOREGROUND_SCALE``).

The planes carry these as 6·K extra channels after the C learned ones, ordered (stat, k), so
everything that moves planes (interpolation, LIM's motion gather) moves the evidence too.
`read_evidence` reads them at a point: each plane bilinearly at the point's in-plane
coordinates, then linearly along its normal — three estimates of the same six statistics.
"""

from einops import rearrange
from lim_ros.models.projected_tokens import column_points, sample_views
from lim_ros.models.triplane import PLANE_AXES
import torch
import torch.nn.functional as F

EVIDENCE_STATS = 6
FOREGROUND_SCALE = 0.02  # a pixel whose darkest channel is this far below white is foreground


def foreground(rgb: torch.Tensor) -> torch.Tensor:
    """Return how much each pixel is object, (…, 1, H, W) in [0, 1], of images on white."""
    darkest = rgb.min(dim=-3, keepdim=True).values
    return ((1.0 - darkest) / FOREGROUND_SCALE).clamp(0.0, 1.0)


@torch.no_grad()
def evidence_planes(rgb: torch.Tensor, K: torch.Tensor, world_T_cam: torch.Tensor,
                    resolution: int, samples: int) -> torch.Tensor:
    """
    Return the evidence channels (B, 3, 6·K, N, N) of B instants of V views.

    rgb (B, V, 3, H, W) in [0, 1]; K (B, V, 3, 3) in pixels; camera-to-world poses
    (B, V, 4, 4) in the volume frame, OpenCV.
    """
    b, v, _, h, w = rgb.shape
    points = column_points(resolution, samples, span=1.0 - 1.0 / samples).to(rgb)
    maps = torch.cat([foreground(rgb), rgb], dim=2).reshape(b * v, 4, h, w)
    sampled, seen = sample_views(maps, K, world_T_cam, (h, w), points)  # (B, V, 4, P)
    fg, colour = sampled[:, :, 0], sampled[:, :, 1:]
    weight = seen[:, :, None].to(rgb.dtype)
    count = weight.sum(dim=1).clamp_min(1.0)  # (B, 1, P)
    mean = (colour * weight).sum(dim=1) / count
    var = ((colour - mean[:, None]) ** 2 * weight).sum(dim=1).sum(dim=1, keepdim=True) / count
    stats = torch.cat([fg.min(dim=1, keepdim=True).values, fg.mean(dim=1, keepdim=True),
                       mean, var], dim=1)  # (B, 6, P)
    return rearrange(stats, 'b s (p i j k) -> b p (s k) i j', p=3, i=resolution, j=resolution)


def read_evidence(evidence: torch.Tensor, points: torch.Tensor) -> torch.Tensor:
    """
    Read evidence planes (B, 3, 6·K, N, N) at points (B, P, 3): features (B, P, 3·6).

    Along the normal, values are linear between slice centres and constant beyond the
    outermost ones.
    """
    samples = evidence.shape[2] // EVIDENCE_STATS
    out = []
    for i, axes in enumerate(PLANE_AXES):
        grid = points[:, None, :, list(axes)].to(evidence.dtype)
        column = F.grid_sample(evidence[:, i], grid, mode='bilinear', padding_mode='zeros',
                               align_corners=False)[:, :, 0]  # (B, 6·K, P)
        column = rearrange(column, 'b (s k) n -> b n s k', s=EVIDENCE_STATS)
        normal = points[..., 3 - sum(axes)].to(evidence.dtype)
        slot = ((normal + 1.0) * 0.5 * samples - 0.5).clamp(0.0, samples - 1.0)
        low = slot.floor().clamp(max=samples - 2).long()  # K >= 2
        high = low + 1
        frac = (slot - low).unsqueeze(-1)
        below = column.gather(3, low[..., None, None].expand(*low.shape, EVIDENCE_STATS, 1))
        above = column.gather(3, high[..., None, None].expand(*high.shape, EVIDENCE_STATS, 1))
        out.append(torch.lerp(below[..., 0], above[..., 0], frac))
    return torch.cat(out, dim=-1)
