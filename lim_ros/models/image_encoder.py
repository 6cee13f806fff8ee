"""
Image encoder: posed views → tokens.

Each view's RGB is concatenated with its per-pixel Plücker rays (so any pose and focal length
is understood), cut into patches, embedded, and all views' tokens attend to one another.
"""

from einops import rearrange
from lim_ros.models.attention import SelfAttentionBlock
import torch
from torch import nn

IN_CHANNELS = 3 + 6  # RGB and Plücker (direction, moment)


class ImageEncoder(nn.Module):
    """Views (B, V, 3, H, W) with rays (B, V, 6, H, W) → tokens (B, V·(H/p)·(W/p), D)."""

    def __init__(self, image_size: int, patch_size: int, dim: int, depth: int,
                 heads: int) -> None:
        """Create the patch embedding, patch positions and ``depth`` transformer blocks."""
        super().__init__()
        self.patch_size = patch_size
        self.embed = nn.Conv2d(IN_CHANNELS, dim, kernel_size=patch_size, stride=patch_size)
        patches = (image_size // patch_size) ** 2
        self.position = nn.Parameter(torch.randn(1, 1, patches, dim) * 0.02)
        self.blocks = nn.ModuleList(SelfAttentionBlock(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)

    def forward(self, rgb: torch.Tensor, plucker: torch.Tensor) -> torch.Tensor:
        """Encode V views of B samples; RGB in [0, 1] is shifted to [-1, 1]."""
        b = rgb.shape[0]
        x = torch.cat([rgb * 2.0 - 1.0, plucker], dim=2)
        x = self.embed(rearrange(x, 'b v c h w -> (b v) c h w'))
        x = rearrange(x, '(b v) d h w -> b v (h w) d', b=b) + self.position
        x = rearrange(x, 'b v n d -> b (v n) d')
        for block in self.blocks:
            x = block(x)
        return self.norm(x)
