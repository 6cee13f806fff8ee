"""
LRM: posed views of one instant → triplane (Hong et al. 2023, multi-view variant).

Stages: `ImageEncoder` (RGB + Plücker patches, cross-view self-attention) → triplane
transformer (3·R·R learnable tokens plus column features, see `projected_tokens`; each block
cross-attends to all view tokens, then self-attends, then MLP) → the last block's token
features, which LIM consumes → a linear "deconvolution" that upsamples every token to an s×s
patch of C channels, giving planes of R·s × R·s, to which column statistics of the raw
colours at that resolution are added (cheap: no gradient flows through the sampling). The
`TriplaneDecoder` turns plane features at a point into SDF, albedo and canonical position.

With ``evidence_samples`` K > 0 the planes also carry the input views' raw statistics (soft
visual hull and photo-consistency, `view_evidence`) as 6·K channels after the C learned ones,
and the decoder corrects its SDF and colour from them: the learned part supplies the shape
prior, the evidence what the views of this very object say, which holds for shapes unlike any
seen in training.
"""

from dataclasses import dataclass

from einops import rearrange
from lim_ros.cameras import Cameras
from lim_ros.errors import check_shape, ConfigError, ShapeError
from lim_ros.models.attention import CrossAttentionBlock
from lim_ros.models.checkpoint import load_model
from lim_ros.models.decoder import FieldOutput, TriplaneDecoder
from lim_ros.models.image_encoder import ImageEncoder
from lim_ros.models.projected_tokens import ColumnFeatures, ViewFeatures
from lim_ros.models.view_evidence import evidence_planes, EVIDENCE_STATS
import torch
from torch import nn


@dataclass(frozen=True)
class LRMConfig:
    """Sizes of the LRM (the trained sizes are in config/train/lrm_tiny.yaml and lrm_base.yaml)."""

    image_size: int = 64
    patch_size: int = 8
    encoder_dim: int = 128
    encoder_depth: int = 2
    dim: int = 128
    depth: int = 4
    heads: int = 4
    token_resolution: int = 8  # R: triplane tokens per plane side
    upsample: int = 4  # s: plane resolution is R·s
    plane_channels: int = 32  # C
    depth_samples: int = 8  # K: points per token column for the projected token features
    projection_channels: int = 32  # CNN channels read at those points
    decoder_hidden: int = 64
    decoder_layers: int = 3
    evidence_samples: int = 0  # K: view-evidence slices per plane column; 0 = no evidence

    def __post_init__(self) -> None:
        """Refuse an evidence size that cannot be interpolated along a column."""
        if self.evidence_samples == 1 or self.evidence_samples < 0:
            raise ConfigError(f'evidence_samples: expected 0 (none) or at least 2, got '
                              f'{self.evidence_samples}')

    @property
    def plane_resolution(self) -> int:
        """Return the side of each feature plane, R·s."""
        return self.token_resolution * self.upsample

    @property
    def output_channels(self) -> int:
        """Return the channels of each output plane, C + 6·K."""
        return self.plane_channels + EVIDENCE_STATS * self.evidence_samples


@dataclass(frozen=True)
class LRMOutput:
    """A reconstruction of B instants."""

    planes: torch.Tensor  # (B, 3, C [+ 6·K evidence], R·s, R·s)
    features: torch.Tensor  # (B, 3·R·R, D): last-layer triplane tokens, consumed by LIM


def blend(source: LRMOutput, target: LRMOutput, alpha: torch.Tensor | float) -> LRMOutput:
    """Return ``(1 - α) source + α target`` for planes and features; α (B,) or a float."""
    a = torch.as_tensor(alpha, dtype=source.features.dtype, device=source.features.device)
    a = a.reshape(-1, 1, 1)
    return LRMOutput(torch.lerp(source.planes, target.planes, a[..., None, None]),
                     torch.lerp(source.features, target.features, a))


class TriplaneUpsampler(nn.Module):
    """Tokens (B, 3·R·R, D) → planes (B, 3, C, R·s, R·s), one linear map per token."""

    def __init__(self, dim: int, resolution: int, upsample: int, channels: int) -> None:
        """Create the projection."""
        super().__init__()
        self.resolution, self.upsample, self.channels = resolution, upsample, channels
        self.norm = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, channels * upsample * upsample)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Upsample tokens to planes."""
        x = self.proj(self.norm(tokens))
        return rearrange(x, 'b (p i j) (c s t) -> b p c (i s) (j t)', p=3, i=self.resolution,
                         s=self.upsample, t=self.upsample)


class LRM(nn.Module):
    """Large Reconstruction Model: see the module docstring."""

    def __init__(self, config: LRMConfig) -> None:
        """Build every stage from ``config``."""
        super().__init__()
        self.config = c = config
        self.encoder = ImageEncoder(c.image_size, c.patch_size, c.encoder_dim, c.encoder_depth,
                                    c.heads)
        self.tokens = nn.Parameter(torch.randn(1, 3 * c.token_resolution**2, c.dim) * 0.02)
        self.view_features = ViewFeatures(c.projection_channels)
        self.token_columns = ColumnFeatures(c.token_resolution, c.depth_samples,
                                            c.projection_channels, c.dim)
        self.plane_columns = ColumnFeatures(c.plane_resolution, c.depth_samples, 3,
                                            c.plane_channels)
        self.blocks = nn.ModuleList(
            CrossAttentionBlock(c.dim, c.heads, (c.encoder_dim,)) for _ in range(c.depth)
        )
        self.upsampler = TriplaneUpsampler(c.dim, c.token_resolution, c.upsample,
                                           c.plane_channels)
        self.decoder = TriplaneDecoder(c.plane_channels, c.decoder_hidden, c.decoder_layers,
                                       evidence=c.evidence_samples > 0)

    def forward(self, rgb: torch.Tensor, K: torch.Tensor, world_T_cam: torch.Tensor) -> LRMOutput:
        """
        Reconstruct B instants from V posed views each.

        rgb (B, V, 3, H, W) in [0, 1]; intrinsics K (B, V, 3, 3) in pixels; camera-to-world
        poses (B, V, 4, 4) in the volume frame, OpenCV convention.
        """
        size = self.config.image_size
        if rgb.dim() != 5 or rgb.shape[2] != 3 or tuple(rgb.shape[-2:]) != (size, size):
            raise ShapeError(f'rgb: expected (B, V, 3, {size}, {size}), got {tuple(rgb.shape)}')
        check_shape('K', tuple(K.shape), (*rgb.shape[:2], 3, 3))
        check_shape('world_T_cam', tuple(world_T_cam.shape), (*rgb.shape[:2], 4, 4))
        plucker = torch.stack([Cameras(k, pose, size, size).plucker()
                               for k, pose in zip(K, world_T_cam)])
        context = self.encoder(rgb, plucker)
        maps = self.view_features(rgb)
        x = self.tokens + self.token_columns(maps, K, world_T_cam, (size, size))
        for block in self.blocks:
            x = block(x, (context,))
        pixels = rearrange(rgb, 'b v c h w -> (b v) c h w')  # the planes read raw colours
        columns = self.plane_columns(pixels, K, world_T_cam, (size, size))
        n = self.config.plane_resolution
        planes = self.upsampler(x) + rearrange(columns, 'b (p i j) c -> b p c i j', p=3, i=n, j=n)
        if self.config.evidence_samples:
            evidence = evidence_planes(rgb, K, world_T_cam, n, self.config.evidence_samples)
            planes = torch.cat([planes, evidence.to(planes.dtype)], dim=2)
        return LRMOutput(planes=planes, features=x)

    def reconstruct(self, rgb: torch.Tensor, cameras: Cameras) -> LRMOutput:
        """Reconstruct one instant from V views (V, 3, H, W) and their cameras."""
        return self(rgb[None], cameras.K[None].to(rgb), cameras.world_T_cam[None].to(rgb))

    def decode(self, planes: torch.Tensor, points: torch.Tensor) -> FieldOutput:
        """Decode points (B, N, 3) in the unit cube from planes."""
        return self.decoder(planes, points)


def load_lrm(path, device: torch.device | str = 'cpu') -> LRM:
    """Load an LRM checkpoint (safetensors with its config) for inference, in eval mode."""
    model, _, _ = load_model(path, LRM, LRMConfig, kind='lrm', device=device)
    return model.eval()
