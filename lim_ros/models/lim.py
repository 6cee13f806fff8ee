"""
LIM: the Large Interpolator Model (Sabathier et al., CVPR 2025).

Given the LRM's outputs at keyframes k and k+1 (source and target) and α ∈ [0, 1], LIM
returns the triplane at time k + α in the same form as the LRM's own output, so the LRM's
decoder turns it into geometry, colour and canonical coordinates, and LIM's output can be
fed back to LIM as a source (the causal consistency loss and chained interpolation do this).

Tokens: the 3·R·R triplane tokens start as the linear blend of the two keyframes' last-layer
LRM features plus a learned position and the α embedding. Each of the ``depth`` blocks
cross-attends to the source features, then to the target features, then self-attends (the
paper's block: LayerNorm first, residuals around each sub-layer).

Outputs: each keyframe's plane patches and features are gathered to the cells where the
tokens at time α need them (`motion_gather`, our addition: explicit motion) and blended by
(1 - α, α); two zero-initialised heads on the tokens add a correction to those planes and
features. An untrained LIM is exactly linear triplane interpolation: training learns what
linear blending misses, motion. With ``flow_warp`` both keyframes are first warped to α along
the flow between their planes (`TriplaneFlow`, no learning), so an untrained LIM is exactly
triplane flow and training learns what that misses. Planes of an LRM with view evidence carry
6·K channels after the C learned ones: they are gathered and blended with the rest (so the
evidence moves with the surface) but get no learned correction, since no views exist at α.
"""

from collections.abc import Iterable
import copy
from dataclasses import dataclass, field
import math
from typing import cast

from einops import rearrange
from lim_ros.config_io import ADDED_SWITCH
from lim_ros.errors import ConfigError, ShapeError
from lim_ros.interp.triplane_flow import TriplaneFlow
from lim_ros.models.attention import CrossAttentionBlock
from lim_ros.models.checkpoint import load_model
from lim_ros.models.lrm import LRM, LRMConfig, LRMOutput, TriplaneUpsampler
from lim_ros.models.motion_gather import MotionGather
import torch
from torch import nn


@dataclass(frozen=True)
class LIMConfig:
    """LIM's sizes; the first four must match the LRM whose outputs it interpolates."""

    feature_dim: int = 128  # D: the LRM's token width
    token_resolution: int = 8  # R
    upsample: int = 8  # s: planes are R·s per side
    plane_channels: int = 32  # C
    depth: int = 6
    heads: int = 4
    alpha_frequencies: int = 6  # sinusoids of α at 2^0 π … 2^(F-1) π
    # both keyframes first warped to α along the flow between their planes (`TriplaneFlow`):
    # LIM then corrects triplane flow instead of the linear blend; checkpoints before it: off
    flow_warp: bool = field(default=False, metadata=ADDED_SWITCH)

    @staticmethod
    def for_lrm(lrm: LRMConfig, **sizes) -> 'LIMConfig':
        """Return the config matching ``lrm``'s outputs, with LIM's own ``sizes``."""
        return LIMConfig(feature_dim=lrm.dim, token_resolution=lrm.token_resolution,
                         upsample=lrm.upsample, plane_channels=lrm.plane_channels, **sizes)

    def check_lrm(self, lrm: LRMConfig) -> None:
        """Raise `ConfigError` naming the sizes where ``lrm``'s outputs do not fit this LIM."""
        pairs = {'feature_dim': lrm.dim, 'token_resolution': lrm.token_resolution,
                 'upsample': lrm.upsample, 'plane_channels': lrm.plane_channels}
        wrong = [f'{k} {getattr(self, k)} vs LRM {v}' for k, v in pairs.items()
                 if getattr(self, k) != v]
        if wrong:
            raise ConfigError('LIM checkpoint does not fit the LRM: ' + ', '.join(wrong))


class AlphaEmbedding(nn.Module):
    """α (B,) → (B, 1, D): [α, sin(2^f π α), cos(2^f π α)] for f < F, then a two-layer MLP."""

    scales: torch.Tensor  # buffer (F,): 2^f π

    def __init__(self, dim: int, frequencies: int) -> None:
        """Create the MLP."""
        super().__init__()
        self.register_buffer('scales', math.pi * 2.0 ** torch.arange(frequencies),
                             persistent=False)
        self.mlp = nn.Sequential(nn.Linear(1 + 2 * frequencies, dim), nn.SiLU(),
                                 nn.Linear(dim, dim))

    def forward(self, alpha: torch.Tensor) -> torch.Tensor:
        """Embed α."""
        angles = alpha[:, None] * self.scales
        features = torch.cat([alpha[:, None], angles.sin(), angles.cos()], dim=-1)
        return self.mlp(features)[:, None]


class LIM(nn.Module):
    """Large Interpolator Model: see the module docstring."""

    def __init__(self, config: LIMConfig) -> None:
        """Build the model; the correction heads start at zero."""
        super().__init__()
        self.config = c = config
        tokens = 3 * c.token_resolution**2
        d = c.feature_dim
        self.position = nn.Parameter(torch.randn(1, tokens, d) * 0.02)
        self.source_marker = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.target_marker = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.alpha = AlphaEmbedding(d, c.alpha_frequencies)
        self.blocks = nn.ModuleList(
            CrossAttentionBlock(d, c.heads, (d, d)) for _ in range(c.depth)
        )
        self.norm = nn.LayerNorm(d)
        self.feature_head = nn.Linear(d, d)
        self.plane_head = TriplaneUpsampler(d, c.token_resolution, c.upsample, c.plane_channels)
        self.gather_source = MotionGather(d, c.token_resolution)
        self.gather_target = MotionGather(d, c.token_resolution)
        self.flow = TriplaneFlow() if c.flow_warp else None
        for layer in self.correction_layers():
            nn.init.zeros_(layer.weight)
            nn.init.zeros_(layer.bias)

    def correction_layers(self) -> tuple[nn.Linear, nn.Linear]:
        """Return the last layers of the two correction heads (features, planes)."""
        return self.feature_head, self.plane_head.proj

    def forward(self, source: LRMOutput, target: LRMOutput, alpha: torch.Tensor) -> LRMOutput:
        """
        Interpolate B pairs of keyframes at α (B,) in [0, 1].

        ``source`` and ``target`` hold planes (B, 3, C, R·s, R·s) and features (B, 3·R·R, D),
        from the LRM or from an earlier LIM call; the result has the same shapes.
        """
        self._check(source, target, alpha)
        a = alpha.to(source.features.dtype)
        if self.flow is not None:
            source, target = self.flow.moved(source, target, a)
        x = torch.lerp(source.features, target.features, a[:, None, None])
        x = x + self.position + self.alpha(a)
        contexts = (source.features + self.position + self.source_marker,
                    target.features + self.position + self.target_marker)
        for block in self.blocks:
            x = block(x, contexts)
        x = self.norm(x)
        moved = torch.lerp(self.gather_source(x, source.features, self._values(source)),
                           self.gather_target(x, target.features, self._values(target)),
                           a[:, None, None])
        c = self.config
        patches, features = moved.split([moved.shape[-1] - c.feature_dim, c.feature_dim], -1)
        planes = rearrange(patches, 'b (p i j) (c s t) -> b p c (i s) (j t)', p=3,
                           i=c.token_resolution, s=c.upsample, t=c.upsample)
        learned, evidence = planes.split([c.plane_channels, planes.shape[2] - c.plane_channels], 2)
        return LRMOutput(planes=torch.cat([learned + self.plane_head(x), evidence], dim=2),
                         features=features + self.feature_head(x))

    def _values(self, keyframe: LRMOutput) -> torch.Tensor:
        """Return each token cell's plane patch and feature, (B, 3·R·R, C·s·s + D)."""
        s = self.config.upsample
        patches = rearrange(keyframe.planes, 'b p c (i s) (j t) -> b (p i j) (c s t)', s=s, t=s)
        return torch.cat([patches, keyframe.features], dim=-1)

    def initialise_from(self, lrm: LRM) -> None:
        """
        Copy the LRM's triplane blocks into LIM's (the paper initialises LIM from the LRM).

        LIM block i takes LRM block ``i mod depth``'s self-attention block, and both of its
        cross-attentions take that block's cross-attention to the image tokens.
        """
        self.config.check_lrm(lrm.config)
        for i, block in enumerate(cast(Iterable[CrossAttentionBlock], self.blocks)):
            source = cast(CrossAttentionBlock, lrm.blocks[i % len(lrm.blocks)])
            block.self_block.load_state_dict(source.self_block.state_dict())
            for norm, cross in zip(block.norm_cross, block.cross):
                norm.load_state_dict(source.norm_cross[0].state_dict())
                cross.load_state_dict(source.cross[0].state_dict())

    def _check(self, source: LRMOutput, target: LRMOutput, alpha: torch.Tensor) -> None:
        c = self.config
        n = c.token_resolution * c.upsample
        channels = max(source.planes.shape[2], c.plane_channels)  # C, or C + the evidence
        planes = (3, channels, n, n)
        features = (3 * c.token_resolution**2, c.feature_dim)
        for name, out in (('source', source), ('target', target)):
            if tuple(out.planes.shape[1:]) != planes or tuple(out.features.shape[1:]) != features:
                raise ShapeError(f'{name}: expected planes (B, {", ".join(map(str, planes))}) '
                                 f'and features (B, {", ".join(map(str, features))}), got '
                                 f'{tuple(out.planes.shape)} and {tuple(out.features.shape)}')
        batch = source.planes.shape[0]
        if target.planes.shape[0] != batch or tuple(alpha.shape) != (batch,):
            raise ShapeError(f'alpha: expected ({batch},) for {batch} keyframe pairs, got '
                             f'{tuple(alpha.shape)} and target batch {target.planes.shape[0]}')
        if not bool(((alpha >= 0.0) & (alpha <= 1.0)).all()):  # NaN fails both comparisons
            raise ShapeError(f'alpha: expected values in [0, 1], got {alpha.tolist()}')


PATHS = ('gather', 'correction')


def one_path(lim: LIM, path: str) -> LIM:
    """
    Return a copy of ``lim`` that changes the linear blend by one of its two paths only.

    ``'gather'``: the correction heads zeroed, so only the motion gather moves content;
    ``'correction'``: the gather's content term zeroed and its keep width set to its gather
    width, so every cell keeps its own values and only the correction heads act. An ablation
    for ``bench interp --paths``: which path a trained LIM's gains and losses come from.
    """
    if path not in PATHS:
        raise ConfigError(f'path: expected one of {PATHS}, got {path!r}')
    single = copy.deepcopy(lim)
    if path == 'gather':
        with torch.no_grad():
            for layer in single.correction_layers():
                layer.weight.zero_()
                layer.bias.zero_()
    else:
        single.gather_source.hold_still()
        single.gather_target.hold_still()
    return single


def load_lim(path, device: torch.device | str = 'cpu') -> LIM:
    """Load a LIM checkpoint (safetensors with its config) for inference, in eval mode."""
    model, _, _ = load_model(path, LIM, LIMConfig, kind='lim', device=device)
    return model.eval()
