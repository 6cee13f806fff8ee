"""
Explicit motion for LIM: each token at time α gathers a keyframe's content from where it was.

Our addition to the paper's LIM, as the projected tokens are to its LRM. The paper's LIM
learns motion inside its transformer from a large data set and many GPU hours; a small
CPU-trained one did not: its validation IoU stayed at linear interpolation's, because moving
content across a plane by regressing residual features is a hard function to find. Moving it
by warping along a predicted flow did not learn either: a warp's gradient only sees a pixel's
neighbourhood, so large motions are never found. Here content moves by attention, whose
gradient reaches every candidate source:

for the triplane token at cell q (3·R·R tokens, the plane's R×R cells) at time α, a softmax
over the keyframe's tokens k on the same plane, of a learned content similarity between q's
LIM token and k's keyframe feature plus a distance prior ``-|u_q - u_k|² / τ`` (token units,
τ learned), weights the keyframe's values at k (its plane patch of s×s pixels and C channels,
and its feature). The cell's own value is added and a blur of it subtracted: the same
softmax of the prior alone, with its own learned width τ_keep. Both widths start equal, so
with the content term at zero (its start) every cell keeps its own value and LIM starts at
linear interpolation; τ_keep → 0 leaves the pure gather, while τ stays wide enough for
gradients to reach distant cells.
"""

import math

from einops import rearrange
import torch
from torch import nn


def token_distances(resolution: int) -> torch.Tensor:
    """Return squared distances (R·R, R·R) between a plane's token cells, token units."""
    ys, xs = torch.meshgrid(torch.arange(resolution), torch.arange(resolution), indexing='ij')
    cells = torch.stack([xs, ys], dim=-1).reshape(-1, 2).float()
    return torch.cdist(cells, cells).square()


class MotionGather(nn.Module):
    """Values (B, 3·R·R, V) of one keyframe, gathered to the cells where LIM's tokens need them."""

    distance: torch.Tensor  # buffer (R·R, R·R): `token_distances`

    def __init__(self, dim: int, resolution: int, match_dim: int = 64) -> None:
        """Create the projections; the content term starts at zero (every cell keeps its own)."""
        super().__init__()
        self.norm_query = nn.LayerNorm(dim)
        self.norm_key = nn.LayerNorm(dim)
        self.query = nn.Linear(dim, match_dim)
        self.key = nn.Linear(dim, match_dim)
        self.log_tau = nn.Parameter(torch.tensor(math.log(2.0)))
        self.log_tau_keep = nn.Parameter(torch.tensor(math.log(2.0)))
        self.register_buffer('distance', token_distances(resolution), persistent=False)
        self.hold_still()

    @torch.no_grad()
    def hold_still(self) -> None:
        """Zero the content term and give the kept blur the gather's width: no cell moves."""
        nn.init.zeros_(self.query.weight)
        nn.init.zeros_(self.query.bias)
        self.log_tau_keep.copy_(self.log_tau)

    def forward(self, tokens: torch.Tensor, keyframe: torch.Tensor,
                values: torch.Tensor) -> torch.Tensor:
        """
        Gather ``values`` (B, 3·R·R, V) of a keyframe with features (B, 3·R·R, D).

        ``tokens`` (B, 3·R·R, D) are LIM's at time α; the result is (B, 3·R·R, V).
        """
        q = rearrange(self.query(self.norm_query(tokens)), 'b (p n) m -> b p n m', p=3)
        k = rearrange(self.key(self.norm_key(keyframe)), 'b (p n) m -> b p n m', p=3)
        logits = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1])
        gathered = torch.softmax(logits - self.distance / self.log_tau.exp(), dim=-1)
        change = gathered - torch.softmax(-self.distance / self.log_tau_keep.exp(), dim=-1)
        v = rearrange(values, 'b (p n) c -> b p n c', p=3)
        return values + rearrange(change @ v, 'b p n c -> b (p n) c')
