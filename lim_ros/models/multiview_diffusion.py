"""
A small conditional multi-view diffusion model: one view in, K views at fixed relative poses out.

Convention: the input view is an RGB image (3, H, W) in [0, 1] (object on white) from a camera
looking at the volume centre with a level horizon; the K target views are that camera turned
about the volume's vertical axis by ``offsets_deg`` (see `lim_ros.cameras.orbit`), same
intrinsics, distance and elevation. The targets are stacked as channels (K·3) of one diffusers
``UNet2DModel``; the input view is concatenated as 3 conditioning channels, and the input
camera's elevation enters as a sinusoidal embedding added to the timestep's (diffusers'
``class_embed_type='timestep'``). Training uses a DDPM noise schedule with v-prediction;
sampling is deterministic DDIM (eta 0) with a fixed number of steps, so the same initial noise
and the same input give the same views.

With ``prior: 'lrm_render'`` the model is also given K prior views: renders, at the target
cameras, of what the LRM reconstructs from the input view alone (`lim_ros.monocular.prior`),
as 3·K more conditioning channels; it then diffuses the residual ``target - prior`` (in
[-1, 1]) instead of the target, and a sample is ``prior + residual``. Conditioning a view
generator on renders of a coarse 3D estimate follows ReconFusion (Wu et al., CVPR 2024); the
residual keeps a small model from having to redraw what the prior already gets right. Such a
model can also sample from part of the schedule (``sample_strength`` < 1, SDEdit, Meng et al.
ICLR 2022): it starts from the prior (a zero residual) noised to the level of that fraction of
the DDIM steps, so the views stay closer to the prior.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from einops import rearrange
from lim_ros.errors import check_shape, ConfigError, ShapeError
from lim_ros.models.checkpoint import load_model
import torch
from torch import nn

if TYPE_CHECKING:  # diffusers is imported when a UNet is built
    from diffusers.models.unets.unet_2d import UNet2DModel

KIND = 'mvdiff'
PRIORS = ('none', 'lrm_render')
_ELEVATION_SCALE = 1000.0 / 180.0  # elevation -90..90 degrees to the timesteps' 0..1000 range


@dataclass(frozen=True)
class MVDiffusionConfig:
    """Sizes of the UNet and its noise schedule (stored in checkpoints)."""

    image_size: int = 64
    offsets_deg: tuple[float, ...] = (90.0, 180.0, 270.0)  # azimuth of the K target views
    block_channels: tuple[int, ...] = (32, 64, 128)  # one UNet level each, halving H and W
    attention_levels: int = 1  # the last (coarsest) levels with self-attention
    layers_per_block: int = 1
    attention_head_dim: int = 32
    train_timesteps: int = 1000
    beta_schedule: str = 'squaredcos_cap_v2'
    prediction_type: str = 'v_prediction'  # or 'epsilon'
    sample_steps: int = 25  # DDIM steps at inference
    prior: str = 'none'  # 'none', or 'lrm_render': conditioned on renders of the LRM's guess
    prior_lrm: str = ''  # the prior's LRM: a shipped model's file name or a path
    prior_grid: int = 48  # SDF grid of the prior's render, per side
    sample_strength: float = 1.0  # fraction of the DDIM steps run; < 1 only with a prior

    def __post_init__(self) -> None:
        """Reject invalid values with the field's name."""
        if not self.offsets_deg:
            raise ConfigError('offsets_deg: expected at least one target view, got none')
        if not self.block_channels or any(c % 8 for c in self.block_channels):
            raise ConfigError(f'block_channels: expected multiples of 8, got '
                              f'{self.block_channels}')
        if self.image_size % 2 ** (len(self.block_channels) - 1):
            raise ConfigError(f'image_size: expected a multiple of '
                              f'{2 ** (len(self.block_channels) - 1)}, got {self.image_size}')
        if not 0 <= self.attention_levels <= len(self.block_channels):
            raise ConfigError(f'attention_levels: expected 0..{len(self.block_channels)}, '
                              f'got {self.attention_levels}')
        if self.prediction_type not in ('v_prediction', 'epsilon'):
            raise ConfigError(f"prediction_type: expected 'v_prediction' or 'epsilon', "
                              f'got {self.prediction_type!r}')
        if self.prior not in PRIORS:
            raise ConfigError(f'prior: expected one of {PRIORS}, got {self.prior!r}')
        if self.has_prior and not self.prior_lrm:
            raise ConfigError("prior_lrm: expected the prior's LRM checkpoint, got ''")
        partial = self.sample_strength < 1.0
        if not 0.0 < self.sample_strength <= 1.0 or (partial and not self.has_prior):
            raise ConfigError(f'sample_strength: expected a value in (0, 1], below 1 only with '
                              f'a prior, got {self.sample_strength} (prior {self.prior!r})')
        for name in ('layers_per_block', 'train_timesteps', 'sample_steps', 'prior_grid'):
            if getattr(self, name) <= 0:
                raise ConfigError(f'{name}: expected a positive value, got {getattr(self, name)}')

    @property
    def num_targets(self) -> int:
        """K, the number of generated views."""
        return len(self.offsets_deg)

    @property
    def has_prior(self) -> bool:
        """Whether the model takes prior views (and diffuses residuals over them)."""
        return self.prior != 'none'

    def scheduler_kwargs(self) -> dict:
        """Keyword arguments of the diffusers schedulers (DDPM for training, DDIM to sample)."""
        return {'num_train_timesteps': self.train_timesteps, 'beta_schedule': self.beta_schedule,
                'prediction_type': self.prediction_type, 'clip_sample': False}


def build_unet(cfg: MVDiffusionConfig) -> 'UNet2DModel':
    """Build the diffusers ``UNet2DModel`` of ``cfg``: K·3 + 3 (+ K·3 prior) in, K·3 out."""
    # from its own module: mypy reads diffusers' top-level names as its dummy placeholders
    from diffusers.models.unets.unet_2d import UNet2DModel

    levels = len(cfg.block_channels)
    attention = [i >= levels - cfg.attention_levels for i in range(levels)]
    return UNet2DModel(
        sample_size=cfg.image_size,
        in_channels=3 * cfg.num_targets * (2 if cfg.has_prior else 1) + 3,
        out_channels=3 * cfg.num_targets,
        down_block_types=tuple('AttnDownBlock2D' if a else 'DownBlock2D' for a in attention),
        up_block_types=tuple('AttnUpBlock2D' if a else 'UpBlock2D' for a in attention[::-1]),
        block_out_channels=cfg.block_channels,
        layers_per_block=cfg.layers_per_block,
        attention_head_dim=cfg.attention_head_dim,
        norm_num_groups=8,
        add_attention=cfg.attention_levels > 0,
        class_embed_type='timestep',
    )


def denoiser_input(noisy: torch.Tensor, condition: torch.Tensor,
                   prior: torch.Tensor | None = None) -> torch.Tensor:
    """
    Stack the UNet input: noisy (B, K·3, H, W), then the view and the prior mapped to [-1, 1].

    ``condition`` is the input view (B, 3, H, W), ``prior`` the prior views (B, K, 3, H, W) or
    None, both in [0, 1].
    """
    parts = [noisy, 2.0 * condition - 1.0]
    if prior is not None:
        parts.append(2.0 * rearrange(prior, 'b k c h w -> b (k c) h w') - 1.0)
    return torch.cat(parts, dim=1)


def diffused_target(targets: torch.Tensor, prior: torch.Tensor | None) -> torch.Tensor:
    """
    Return what the model diffuses, (B, K·3, H, W) in [-1, 1], for views (B, K, 3, H, W).

    Views and prior are in [0, 1]. Without a prior, the views mapped to [-1, 1]; with prior
    views (same shape), the residual ``targets - prior``.
    """
    x0 = targets - prior if prior is not None else 2.0 * targets - 1.0
    return rearrange(x0, 'b k c h w -> b (k c) h w')


def views_of(x0: torch.Tensor, prior: torch.Tensor | None) -> torch.Tensor:
    """Invert `diffused_target`: views (B, K, 3, H, W) in [0, 1] of a sample (B, K·3, H, W)."""
    x0 = rearrange(x0.clamp(-1.0, 1.0), 'b (k c) h w -> b k c h w', c=3)
    return (prior + x0).clamp(0.0, 1.0) if prior is not None else (x0 + 1.0) / 2.0


def check_prior_views(prior_kind: str, prior: torch.Tensor | None, batch: int, k: int,
                      size: int) -> None:
    """
    Raise ShapeError unless ``prior`` fits a model whose config has ``prior: prior_kind``.

    A model with a prior needs its prior views (B, K, 3, H, W); one without takes None.
    """
    if prior_kind == 'none':
        if prior is not None:
            raise ShapeError('prior: this model has no prior (prior: none), got prior views')
        return
    if prior is None:
        raise ShapeError(f'prior: a model with prior {prior_kind!r} needs its prior views, '
                         'got none')
    check_shape('prior', tuple(prior.shape), (batch, k, 3, size, size))


def elevation_label(elevation_deg: torch.Tensor) -> torch.Tensor:
    """Map the elevation (B,) in degrees to the UNet's class label (the timesteps' range)."""
    return (elevation_deg + 90.0) * _ELEVATION_SCALE


@torch.no_grad()
def sample_views(unet: nn.Module, scheduler, condition: torch.Tensor,
                 elevation_deg: torch.Tensor, noise: torch.Tensor, steps: int,
                 prior: torch.Tensor | None = None, strength: float = 1.0) -> torch.Tensor:
    """
    Denoise ``noise`` (B, K·3, H, W) into K views (B, K, 3, H, W) in [0, 1] with ``scheduler``.

    ``condition`` (B, 3, H, W) is the input view in [0, 1], ``elevation_deg`` (B,) its camera's
    elevation, ``prior`` the prior views (B, K, 3, H, W) of a model with a prior, else None;
    ``scheduler`` is a diffusers scheduler (DDIM here; its ``set_timesteps`` state is reset for
    these ``steps``). With ``strength`` < 1 (a prior only) only the last round(strength·steps)
    steps run, from the zero residual noised to the first of them. Shared by
    `MultiViewDiffusion.generate` and the diffusers pipeline, so both give the same views for
    the same noise.
    """
    scheduler.set_timesteps(steps, device=noise.device)
    labels = elevation_label(elevation_deg).to(noise.device)
    timesteps = scheduler.timesteps
    x = noise * scheduler.init_noise_sigma
    if strength < 1.0:
        if prior is None:
            raise ShapeError(f'strength: {strength} < 1 needs prior views (SDEdit from the prior)')
        timesteps = timesteps[len(timesteps) - max(1, round(strength * len(timesteps))):]
        x = noise * (1.0 - scheduler.alphas_cumprod[int(timesteps[0])]).sqrt()
    dtype = next(unet.parameters()).dtype
    for t in timesteps:
        inp = scheduler.scale_model_input(x, t)
        out = unet(denoiser_input(inp, condition, prior).to(dtype), t.expand(x.shape[0]),
                   class_labels=labels.to(dtype)).sample
        x = scheduler.step(out.float(), t, x, eta=0.0).prev_sample
    return views_of(x, prior)


class MultiViewDiffusion(nn.Module):
    """A diffusers UNet that denoises K stacked target views given one view and its elevation."""

    def __init__(self, config: MVDiffusionConfig) -> None:
        """Build the UNet of ``config``."""
        super().__init__()
        self.config = config
        self.unet = build_unet(config)

    def forward(self, noisy: torch.Tensor, timesteps: torch.Tensor, condition: torch.Tensor,
                elevation_deg: torch.Tensor, prior: torch.Tensor | None = None) -> torch.Tensor:
        """
        Predict v (or epsilon) (B, K·3, H, W) for ``noisy`` (B, K·3, H, W) at ``timesteps`` (B,).

        ``condition`` (B, 3, H, W) is the input view in [0, 1]; ``elevation_deg`` (B,) its
        camera's elevation in degrees; ``prior`` (B, K, 3, H, W) in [0, 1] the prior views,
        given exactly when the config has a prior.
        """
        b = noisy.shape[0]
        size = self.config.image_size
        check_shape('noisy', tuple(noisy.shape), (b, 3 * self.config.num_targets, size, size))
        check_shape('condition', tuple(condition.shape), (b, 3, size, size))
        check_prior_views(self.config.prior, prior, b, self.config.num_targets, size)
        return self.unet(denoiser_input(noisy, condition, prior), timesteps,
                         class_labels=elevation_label(elevation_deg)).sample

    def training_scheduler(self):
        """Return a diffusers ``DDPMScheduler`` with this model's noise schedule."""
        from diffusers import DDPMScheduler

        return DDPMScheduler(**self.config.scheduler_kwargs())

    def sampling_scheduler(self):
        """Return a diffusers ``DDIMScheduler`` with this model's noise schedule."""
        from diffusers import DDIMScheduler

        return DDIMScheduler(**self.config.scheduler_kwargs())

    def initial_noise(self, batch: int, generator: torch.Generator) -> torch.Tensor:
        """Gaussian noise (B, K·3, H, W) on the CPU from ``generator``, to pass to `generate`."""
        size = self.config.image_size
        return torch.randn(batch, 3 * self.config.num_targets, size, size, generator=generator)

    def generate(self, condition: torch.Tensor, elevation_deg: torch.Tensor,
                 noise: torch.Tensor, steps: int | None = None,
                 prior: torch.Tensor | None = None) -> torch.Tensor:
        """
        K views (B, K, 3, H, W) in [0, 1] of input views ``condition`` (B, 3, H, W) in [0, 1].

        ``noise`` (B, K·3, H, W) is the initial noise (the same noise for every frame of a
        sequence keeps the generated views consistent over time); ``steps`` DDIM steps
        (default: the config's ``sample_steps``); ``prior`` as in `forward`.
        """
        b = condition.shape[0]
        size = self.config.image_size
        check_shape('condition', tuple(condition.shape), (b, 3, size, size))
        check_shape('noise', tuple(noise.shape), (b, 3 * self.config.num_targets, size, size))
        check_shape('elevation_deg', tuple(elevation_deg.shape), (b,))
        check_prior_views(self.config.prior, prior, b, self.config.num_targets, size)
        if not torch.isfinite(condition).all() or condition.min() < 0 or condition.max() > 1:
            raise ShapeError('condition: expected finite values in [0, 1]')
        device = next(self.parameters()).device
        was_training = self.training
        self.eval()
        views = sample_views(self.unet, self.sampling_scheduler(), condition.to(device),
                             elevation_deg.to(device), noise.to(device),
                             steps or self.config.sample_steps,
                             None if prior is None else prior.to(device),
                             self.config.sample_strength)
        self.train(was_training)
        return views


def load_multiview_diffusion(path: str | Path,
                             device: torch.device | str = 'cpu') -> MultiViewDiffusion:
    """Load a `MultiViewDiffusion` checkpoint (safetensors, config inside) in eval mode."""
    model, _, _ = load_model(path, MultiViewDiffusion, MVDiffusionConfig, kind=KIND,
                             device=device)
    return model.eval()
