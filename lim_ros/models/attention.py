"""
Transformer building blocks shared by the image encoder, the LRM and LIM.

Convention: token tensors are (B, N, D); every block is pre-norm (LayerNorm first) with a
residual around each sub-layer, as in the LRM / LIM papers.
"""

from einops import rearrange
import torch
from torch import nn
import torch.nn.functional as F


class Attention(nn.Module):
    """Multi-head attention of queries (B, N, D) over a context (B, M, Dc) (itself if None)."""

    def __init__(self, dim: int, heads: int, context_dim: int | None = None) -> None:
        """Create the projections; ``dim`` must be divisible by ``heads``."""
        super().__init__()
        self.heads = heads
        self.to_q = nn.Linear(dim, dim, bias=False)
        self.to_kv = nn.Linear(context_dim or dim, 2 * dim, bias=False)
        self.out = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """Attend from ``x`` to ``context``; returns (B, N, D)."""
        context = x if context is None else context
        q = rearrange(self.to_q(x), 'b n (h d) -> b h n d', h=self.heads)
        k, v = rearrange(self.to_kv(context), 'b m (two h d) -> two b h m d', two=2, h=self.heads)
        y = F.scaled_dot_product_attention(q, k, v)
        return self.out(rearrange(y, 'b h n d -> b n (h d)'))


class FeedForward(nn.Module):
    """Two-layer MLP with GELU, hidden width ``mult * dim``."""

    def __init__(self, dim: int, mult: int = 4) -> None:
        """Create the layers."""
        super().__init__()
        self.net = nn.Sequential(nn.Linear(dim, mult * dim), nn.GELU(), nn.Linear(mult * dim, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the MLP to (B, N, D)."""
        return self.net(x)


class SelfAttentionBlock(nn.Module):
    """LayerNorm → self-attention → LayerNorm → MLP (ViT block)."""

    def __init__(self, dim: int, heads: int) -> None:
        """Create the sub-layers."""
        super().__init__()
        self.norm_attn = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm_mlp = nn.LayerNorm(dim)
        self.mlp = FeedForward(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Update tokens (B, N, D)."""
        x = x + self.attn(self.norm_attn(x))
        return x + self.mlp(self.norm_mlp(x))


class CrossAttentionBlock(nn.Module):
    """
    LayerNorm → cross-attention to each context in turn → self-attention → MLP.

    With one context this is the LRM's triplane block; LIM's blocks attend to two contexts
    (the features of keyframes k and k+1).
    """

    def __init__(self, dim: int, heads: int, context_dims: tuple[int, ...]) -> None:
        """Create one cross-attention per context, then self-attention and the MLP."""
        super().__init__()
        self.norm_cross = nn.ModuleList(nn.LayerNorm(dim) for _ in context_dims)
        self.cross = nn.ModuleList(Attention(dim, heads, c) for c in context_dims)
        self.self_block = SelfAttentionBlock(dim, heads)

    def forward(self, x: torch.Tensor, contexts: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Update tokens (B, N, D) from contexts, each (B, M_i, D_i)."""
        for norm, cross, context in zip(self.norm_cross, self.cross, contexts):
            x = x + cross(norm(x), context)
        return self.self_block(x)
