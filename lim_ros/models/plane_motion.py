"""
Explicit motion in triplane space: soft token correspondences and forward splatting.

Our addition to the paper's LIM, like the projected tokens are to its LRM: the paper's LIM
learns motion inside its transformer from a large data set and many GPU hours; a small
CPU-trained one did not (its validation IoU stayed at linear interpolation's), because moving
content across a plane by regressing residual features is a hard function to find. Here
motion has its own path, learned end to end:

- `TokenMatcher`: each triplane token i of one keyframe gets a softmax over the tokens j of
  the other keyframe on the same plane, of a learned content similarity minus
  ``|u_i - u_j|² / τ`` (token units, τ learned). The expected position of its match gives a
  displacement per token (less that of the distance term alone, so that a plane's border
  does not drift inwards), upsampled to a flow per plane pixel. The content term starts at
  zero, so at start nothing moves.
- `splat`: forward (softmax) splatting of planes along a flow, bilinear, with a learned
  importance per token so that moving content can cover what it moves over; LIM blends the
  two keyframes splatted to time α and falls back to linear blending where nothing landed.

Flows are in plane pixels, x along a plane's columns and y along its rows.
"""

import math

from einops import rearrange
import torch
from torch import nn
import torch.nn.functional as F


def _token_grid(resolution: int) -> torch.Tensor:
    """Return token positions (R·R, 2) as (x, y) in token units, row-major."""
    ys, xs = torch.meshgrid(torch.arange(resolution), torch.arange(resolution), indexing='ij')
    return torch.stack([xs, ys], dim=-1).reshape(-1, 2).float()


class TokenMatcher(nn.Module):
    """Displacements (B, 3, 2, n, n) of one keyframe's plane content towards the other's."""

    def __init__(self, dim: int, resolution: int, upsample: int, match_dim: int = 64) -> None:
        """Create the projections; the content term starts at zero (no motion)."""
        super().__init__()
        self.resolution, self.upsample = resolution, upsample
        self.norm = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, match_dim)
        self.key = nn.Linear(dim, match_dim)
        nn.init.zeros_(self.query.weight)
        nn.init.zeros_(self.query.bias)
        self.log_tau = nn.Parameter(torch.tensor(math.log(2.0)))
        grid = _token_grid(resolution)
        self.register_buffer('grid', grid, persistent=False)
        self.register_buffer('distance', torch.cdist(grid, grid).square(), persistent=False)

    def forward(self, source: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Match source tokens (B, 3·R·R, D) in target tokens; return a flow in plane pixels."""
        r = self.resolution
        q = rearrange(self.query(self.norm(source)), 'b (p n) m -> b p n m', p=3)
        k = rearrange(self.key(self.norm(target)), 'b (p n) m -> b p n m', p=3)
        logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        prior = -self.distance / self.log_tau.exp()
        change = torch.softmax(logits + prior, dim=-1) - torch.softmax(prior, dim=-1)
        moved = change @ self.grid  # (B, 3, R·R, 2) token units
        flow = rearrange(moved, 'b p (i j) c -> (b p) c i j', i=r) * self.upsample
        n = r * self.upsample
        flow = F.interpolate(flow, size=(n, n), mode='bilinear', align_corners=False)
        return rearrange(flow, '(b p) c i j -> b p c i j', p=3)


def splat(values: torch.Tensor, flow: torch.Tensor,
          importance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Forward-splat planes along a flow; return the weighted sums and the weights.

    values (B, 3, C, n, n); flow (B, 3, 2, n, n) in pixels; importance (B, 3, 1, n, n), a
    log-weight per source pixel. Each pixel lands at its position plus its flow and is shared
    among the four pixels around it (bilinear); what lands outside the plane is dropped. The
    result is (sums (B, 3, C, n, n), weights (B, 3, 1, n, n)): divide for the splatted planes.
    """
    b, p, c, n, _ = values.shape
    x = values.reshape(b * p, c, n * n)
    f = flow.reshape(b * p, 2, n * n)
    strength = importance.reshape(b * p, 1, n * n).exp()
    axis = torch.arange(n, device=values.device, dtype=values.dtype)
    px = axis.repeat(n)[None] + f[:, 0]
    py = axis.repeat_interleave(n)[None] + f[:, 1]
    x0, y0 = px.floor(), py.floor()
    fx, fy = px - x0, py - y0
    sums = values.new_zeros(b * p, c, n * n)
    weights = values.new_zeros(b * p, 1, n * n)
    for dx, dy in ((0, 0), (1, 0), (0, 1), (1, 1)):
        xi, yi = x0 + dx, y0 + dy
        w = (fx if dx else 1.0 - fx) * (fy if dy else 1.0 - fy)
        w = (w * ((xi >= 0) & (xi < n) & (yi >= 0) & (yi < n)))[:, None] * strength
        index = (yi.clamp(0, n - 1) * n + xi.clamp(0, n - 1)).long()[:, None]
        sums = sums.scatter_add(2, index.expand(-1, c, -1), x * w)
        weights = weights.scatter_add(2, index, w)
    return sums.reshape(b, p, c, n, n), weights.reshape(b, p, 1, n, n)
