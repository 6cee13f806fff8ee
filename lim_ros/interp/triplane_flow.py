"""
Triplane flow: interpolation by matching the two keyframes' feature planes, no learning.

An object that moves in the volume moves its features across the planes that see it: a
shift along x moves them along x in the xy and xz planes. For every pixel of every plane, the
flow F_0→1 to the other keyframe's plane is the soft arg-min over displacements d with
|d_x|, |d_y| ≤ ``radius`` pixels of

    cost(d) = mean over a ``window`` × ``window`` box of |f_0(p) - f_1(p + d)|² / C
              + ``smoothness`` · |d|²,

with the planes' C channels standardised (over both keyframes together) and a softmax of
-cost / ``temperature``. F_1→0 comes the same way; `flows_to_keyframes` turns both into flows
from time α, and the planes at α blend both keyframes backward-warped along them (bilinear,
border values outside). The token features LIM reads are warped the same way along the flow
averaged over each token's s × s pixels. Every channel takes part, view evidence included.
"""

from dataclasses import dataclass

from einops import rearrange
from lim_ros.errors import ConfigError, ShapeError
from lim_ros.interp.linear_motion import flows_to_keyframes
from lim_ros.models.lrm import blend, LRMOutput
import torch
from torch.nn import functional as F


@dataclass(frozen=True)
class TriplaneFlowConfig:
    """
    How the keyframes' planes are matched; pixels are plane pixels (R·s per side).

    The defaults scored best of the twelve settings tried with the shipped base LRM on
    validation sequences (``bench interp``'s groups drawn from seed 50 000, not the bench's).
    """

    radius: int = 10  # largest displacement searched along each axis, pixels
    window: int = 5  # side of the box a matching cost is averaged over, pixels (odd)
    smoothness: float = 0.002  # cost per squared pixel of displacement
    temperature: float = 0.2  # softness of the arg-min over displacements

    def __post_init__(self) -> None:
        """Raise `ConfigError` naming the first field out of range."""
        if isinstance(self.radius, bool) or not isinstance(self.radius, int) or self.radius < 1:
            raise ConfigError(f'radius: expected an integer >= 1, got {self.radius!r}')
        if (isinstance(self.window, bool) or not isinstance(self.window, int)
                or self.window < 1 or self.window % 2 == 0):
            raise ConfigError(f'window: expected an odd integer >= 1, got {self.window!r}')
        if not self.smoothness >= 0.0:  # NaN fails too
            raise ConfigError(f'smoothness: expected a number >= 0, got {self.smoothness!r}')
        if not self.temperature > 0.0:
            raise ConfigError(f'temperature: expected a number > 0, got {self.temperature!r}')


def plane_flow(f0: torch.Tensor, f1: torch.Tensor, cfg: TriplaneFlowConfig) -> torch.Tensor:
    """Return the flow (N, 2, H, W) from planes ``f0`` to ``f1`` (N, C, H, W), pixels (x, y)."""
    h, w = f0.shape[-2:]
    both = torch.cat([f0, f1])
    mean, std = both.mean((0, 2, 3), keepdim=True), both.std((0, 2, 3), keepdim=True)
    a, b = (f0 - mean) / (std + 1e-6), (f1 - mean) / (std + 1e-6)
    r = cfg.radius
    padded = F.pad(b, [r] * 4, mode='replicate')
    steps = range(-r, r + 1)
    shifts = torch.tensor([(dx, dy) for dy in steps for dx in steps], dtype=f0.dtype,
                          device=f0.device)  # (K, 2)
    costs = torch.cat([(a - padded[:, :, r + dy:r + dy + h, r + dx:r + dx + w]).square()
                       .mean(1, keepdim=True) for dx, dy in shifts.long().tolist()], dim=1)
    costs = F.avg_pool2d(costs, cfg.window, 1, cfg.window // 2, count_include_pad=False)
    costs = costs + cfg.smoothness * shifts.square().sum(-1)[None, :, None, None]
    weights = torch.softmax(-costs / cfg.temperature, dim=1)  # (N, K, H, W)
    return torch.einsum('nkhw,kc->nchw', weights, shifts)


def warp(image: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """Return ``image`` (N, C, H, W) sampled at pixel + ``flow`` (N, 2, H, W), border outside."""
    h, w = image.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, dtype=image.dtype, device=image.device),
                            torch.arange(w, dtype=image.dtype, device=image.device),
                            indexing='ij')
    grid = torch.stack([(xs + flow[:, 0]) * (2.0 / max(w - 1, 1)) - 1.0,
                        (ys + flow[:, 1]) * (2.0 / max(h - 1, 1)) - 1.0], dim=-1)
    return F.grid_sample(image, grid, mode='bilinear', padding_mode='border',
                         align_corners=True)


class TriplaneFlow:
    """Interpolates LRM outputs along the flow between their planes; see the module docstring."""

    def __init__(self, config: TriplaneFlowConfig | None = None) -> None:
        """Keep the matching settings (defaults: `TriplaneFlowConfig`)."""
        self.config = config or TriplaneFlowConfig()

    @torch.no_grad()
    def flows(self, source: LRMOutput, target: LRMOutput) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Return F_0→1 and F_1→0, each (B·3, 2, N, N) pixels, for planes (B, 3, C, N, N).

        No gradient flows through the matching: it is not learnt (the warps carry gradients).
        """
        _check(source, target)
        p0, p1 = (rearrange(o.planes, 'b p c h w -> (b p) c h w') for o in (source, target))
        return plane_flow(p0, p1, self.config), plane_flow(p1, p0, self.config)

    def moved(self, source: LRMOutput, target: LRMOutput, alpha: torch.Tensor | float,
              flows: tuple[torch.Tensor, torch.Tensor] | None = None
              ) -> tuple[LRMOutput, LRMOutput]:
        """
        Return both keyframes warped to α: a float, or (B,) for B pairs, each in [0, 1].

        ``flows``: this pair's `flows`, when the caller kept them from an earlier α.
        """
        resolution = _check(source, target)
        b, _, _, n, _ = source.planes.shape
        a = torch.as_tensor(alpha, dtype=source.planes.dtype, device=source.planes.device)
        if a.numel() not in (1, b) or not bool(((a >= 0.0) & (a <= 1.0)).all()):  # NaN too
            raise ShapeError(f'alpha: expected a value in [0, 1] or {b} of them, got '
                             f'{a.tolist()}')
        per_plane = a.reshape(-1, 1).expand(b, 3).reshape(-1, 1, 1, 1)  # (B·3, 1, 1, 1)
        to_keyframes = flows_to_keyframes(*(flows or self.flows(source, target)), per_plane)
        s = n // resolution
        moved = []
        for out, flow in zip((source, target), to_keyframes):
            planes = warp(rearrange(out.planes, 'b p c h w -> (b p) c h w'), flow)
            tokens = rearrange(out.features, 'b (p i j) d -> (b p) d i j', p=3, i=resolution)
            tokens = warp(tokens, F.avg_pool2d(flow, s) / s)
            moved.append(LRMOutput(rearrange(planes, '(b p) c h w -> b p c h w', b=b),
                                   rearrange(tokens, '(b p) d i j -> b (p i j) d', b=b)))
        return moved[0], moved[1]

    def __call__(self, source: LRMOutput, target: LRMOutput, alpha: torch.Tensor | float,
                 flows: tuple[torch.Tensor, torch.Tensor] | None = None) -> LRMOutput:
        """Return the triplanes at α (as `moved`) between ``source`` (α = 0) and ``target``."""
        return blend(*self.moved(source, target, alpha, flows), alpha)


def _check(source: LRMOutput, target: LRMOutput) -> int:
    """Raise `ShapeError` unless both are triplanes of the same shape; return R (tokens/side)."""
    planes, features = source.planes.shape, source.features.shape
    if (len(planes) != 5 or planes[1] != 3 or planes[3] != planes[4]
            or target.planes.shape != planes or target.features.shape != features
            or len(features) != 3 or features[0] != planes[0]):
        raise ShapeError(f'source, target: expected planes (B, 3, C, N, N) and features '
                         f'(B, 3·R·R, D) of the same shapes, got {tuple(planes)}, '
                         f'{tuple(features)} and {tuple(target.planes.shape)}, '
                         f'{tuple(target.features.shape)}')
    resolution = round((features[1] / 3) ** 0.5)
    if 3 * resolution**2 != features[1] or planes[3] % resolution:
        raise ShapeError(f'features: expected 3·R·R tokens with R dividing the plane side '
                         f'{planes[3]}, got {features[1]}')
    return resolution
