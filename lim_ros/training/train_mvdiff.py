"""
``lim-ros train mvdiff``: train the multi-view diffusion model on an orbit-camera cache.

The cache (``lim-ros data cache --cameras orbit``) holds, per sample and instant, a random view
and the same camera turned by the model's ``offsets_deg``. A step draws B (sample, instant)
pairs; when the offsets are the uniform cycle k·360/(K+1) any of the K+1 views can be the input
(the others, in cyclic order, are its targets), and when they are symmetric (θ ↔ 360 - θ) a
horizontal mirror of all views with the targets in reverse order is an equally valid sample.
Loss: MSE of the UNet's v (or epsilon) prediction at a uniform DDPM timestep.

A model with a prior (``model.prior: lrm_render``) is trained on the prior views of each
sample's view 0 (the LRM on that view, rendered at the targets; `lim_ros.monocular.prior`),
computed once and kept next to the cache in ``prior_<LRM file stem>_<grid>.safetensors``; view
0 is then always the input (mirroring stays). When the run ends, the best checkpoint's
``sample_strength`` is chosen among ``strengths`` by the same validation (with the model's own
``sample_steps``) and written into it; the choice is in ``strength.json``.

Validation: PSNR of the views generated (fixed noise, ``val_steps`` DDIM steps) from the input
view of a fixed set of seen and held-out objects against their true renders.
"""

from dataclasses import dataclass, field, replace
import json
from pathlib import Path

from lim_ros.cameras import Cameras, elevation_deg, orbit
from lim_ros.data.cache import CachedDataset
from lim_ros.data.dataset import DataConfig, WorldDataset
from lim_ros.errors import ConfigError
from lim_ros.metrics import psnr
from lim_ros.models.checkpoint import load_model, save_checkpoint
from lim_ros.models.multiview_diffusion import (
    diffused_target,
    KIND,
    MultiViewDiffusion,
    MVDiffusionConfig,
)
from lim_ros.monocular.prior import load_prior, RenderedPrior
from lim_ros.training.batches import stack_samples
from lim_ros.training.loop import LossTerms, run_training, start_run, Trainee
from lim_ros.world.families import HELD_OUT_FAMILIES, SEEN_FAMILIES
from safetensors import safe_open, SafetensorError
from safetensors.torch import save_file
import torch
import torch.nn.functional as F
from tqdm import tqdm


@dataclass(frozen=True)
class MVDiffTrainConfig:
    """Everything one multi-view diffusion training run depends on (saved in its checkpoints)."""

    model: MVDiffusionConfig = field(default_factory=MVDiffusionConfig)
    data_dir: str = 'data/mvdiff_train'
    out_dir: str = 'runs/mvdiff_tiny'
    steps: int = 2000
    batch_size: int = 16
    lr: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    augment: bool = True  # cyclic input choice and mirroring, where the offsets allow them
    seed: int = 0
    device: str = 'cpu'
    amp: bool = False  # bfloat16 autocast, CUDA only
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    log_every: int = 25
    checkpoint_every: int = 500
    val_samples: int = 8  # per split (seen, held-out)
    val_steps: int = 10  # DDIM steps of validation sampling
    strengths: tuple[float, ...] = (1.0, 0.5, 0.35, 0.25, 0.15, 0.1)  # prior models' choices


@dataclass(frozen=True)
class OrbitViews:
    """Images of N orbit samples (T instants, 1 + K views), their input cameras, prior views."""

    rgb: torch.Tensor  # (N, T, 1 + K, 3, H, W) in [0, 1]; view 0 the input, then the offsets
    cameras: Cameras  # N input cameras (view 0), unit cube
    prior: torch.Tensor | None = None  # (N, T, K, 3, H, W) prior views of view 0 in [0, 1]

    @classmethod
    def from_columns(cls, rgb: torch.Tensor, K: torch.Tensor, world_T_cam: torch.Tensor,
                     offsets_deg: tuple[float, ...], where: str) -> 'OrbitViews':
        """Check that the cameras are orbits by ``offsets_deg``; keep images and input cameras."""
        n, _, v, _, h, w = rgb.shape
        if v != 1 + len(offsets_deg):
            raise ConfigError(f'{where}: expected 1 + {len(offsets_deg)} views per sample, '
                              f'found {v} (cache it with --cameras orbit)')
        source = Cameras(K[:, 0], world_T_cam[:, 0], h, w)
        expected = orbit(source, offsets_deg).world_T_cam.reshape(n, v - 1, 4, 4)
        if not torch.allclose(expected, world_T_cam[:, 1:], atol=1e-4):
            raise ConfigError(f'{where}: views 1..{v - 1} are not view 0 turned by the '
                              f'offsets {offsets_deg} degrees (cache it with --cameras orbit '
                              f'--orbit-offsets {" ".join(str(o) for o in offsets_deg)})')
        return cls(rgb, source)

    @property
    def elevation(self) -> torch.Tensor:
        """Return the input cameras' elevations (N,), degrees, on the cameras' device."""
        return elevation_deg(self.cameras)

    def to(self, device: torch.device) -> 'OrbitViews':
        """Move the images, cameras and prior views to ``device``."""
        return replace(self, rgb=self.rgb.to(device), cameras=self.cameras.to(device),
                       prior=None if self.prior is None else self.prior.to(device))


@torch.no_grad()
def render_priors(prior: RenderedPrior, views: OrbitViews, offsets_deg: tuple[float, ...],
                  desc: str) -> torch.Tensor:
    """Return the prior views (N, T, K, 3, H, W) float16 of each sample's view 0 (progress bar)."""
    n, t = views.rgb.shape[:2]
    out = torch.empty((n, t, len(offsets_deg), *views.rgb.shape[3:]), dtype=torch.float16)
    for i in tqdm(range(n), desc=desc, unit='sample'):
        camera = views.cameras.select(slice(i, i + 1))
        targets = orbit(camera, offsets_deg)
        for j in range(t):
            out[i, j] = prior.views(views.rgb[i, j, 0].float(), camera, targets)
    return out


def cached_priors(cfg: MVDiffTrainConfig, views: OrbitViews,
                  prior: RenderedPrior) -> torch.Tensor:
    """
    Return the cache's prior views, rendering them with ``prior`` and saving them if not saved.

    A saved file that is unreadable or of another cache's size is rendered again (it is derived
    data, so nothing is lost).
    """
    model = cfg.model
    name = f'prior_{Path(model.prior_lrm).stem}_{model.prior_grid}.safetensors'
    path = Path(cfg.data_dir) / name
    if path.is_file():
        try:
            with safe_open(str(path), framework='pt') as f:
                priors = f.get_tensor('prior')
            if priors.shape[:2] == views.rgb.shape[:2]:
                return priors
        except (OSError, SafetensorError):
            pass
    priors = render_priors(prior, views, model.offsets_deg, 'prior views')
    save_file({'prior': priors}, str(path))
    return priors


def view_orders(offsets_deg: tuple[float, ...], augment: bool,
                any_input: bool = True) -> tuple[torch.Tensor, bool]:
    """
    Return the admissible view orders (R, 1 + K) and whether mirroring is admissible.

    Order r lists the view used as input, then its targets for each offset. With uniform
    offsets k·360/(K+1) and ``any_input`` every rotation of the cycle is one; otherwise only
    the identity.
    """
    k = len(offsets_deg)
    identity = torch.arange(k + 1)
    if not augment:
        return identity[None], False
    cyclic = any_input and all(abs(o - 360.0 * (i + 1) / (k + 1)) < 1e-6
                               for i, o in enumerate(offsets_deg))
    mirror = all(abs(a + b - 360.0) < 1e-6 for a, b in zip(offsets_deg, offsets_deg[::-1]))
    if not cyclic:
        return identity[None], mirror
    return torch.stack([(identity + r) % (k + 1) for r in range(k + 1)]), mirror


@dataclass(frozen=True)
class OrbitBatch:
    """One training batch, on the images' device, values in [0, 1]."""

    inputs: torch.Tensor  # (B, 3, H, W)
    targets: torch.Tensor  # (B, K, 3, H, W)
    elevation: torch.Tensor  # (B,) degrees
    prior: torch.Tensor | None  # (B, K, 3, H, W) prior views, or None


def draw_batch(views: OrbitViews, batch_size: int, orders: torch.Tensor, mirror: bool,
               g: torch.Generator) -> OrbitBatch:
    """Draw B (sample, instant, view order, mirror) picks of ``views``."""
    n, t = views.rgb.shape[:2]
    sample = torch.randint(n, (batch_size,), generator=g)
    instant = torch.randint(t, (batch_size,), generator=g)
    order = orders[torch.randint(len(orders), (batch_size,), generator=g)]
    device = views.rgb.device
    rgb = views.rgb[sample.to(device), instant.to(device)]  # (B, 1 + K, 3, H, W)
    rgb = rgb[torch.arange(batch_size, device=device)[:, None], order.to(device)].float()
    prior = None
    if views.prior is not None:  # the prior's orders are the identity (view 0 in)
        prior = views.prior[sample.to(device), instant.to(device)].float()
    if mirror:
        flip = (torch.rand(batch_size, generator=g) < 0.5).to(device)[:, None, None, None, None]
        mirrored = torch.cat([rgb[:, :1], rgb[:, 1:].flip(1)], dim=1).flip(-1)
        rgb = torch.where(flip, mirrored, rgb)
        if prior is not None:
            prior = torch.where(flip, prior.flip(1).flip(-1), prior)
    return OrbitBatch(rgb[:, 0], rgb[:, 1:], views.elevation[sample.to(device)], prior)


def denoising_loss(model: MultiViewDiffusion, scheduler, batch: OrbitBatch,
                   g: torch.Generator) -> torch.Tensor:
    """MSE of the prediction (v or epsilon) for the batch's targets noised at a random t."""
    x0 = diffused_target(batch.targets, batch.prior)
    b = x0.shape[0]
    t = torch.randint(model.config.train_timesteps, (b,), generator=g).to(x0.device)
    # the noise is drawn on the device (a CPU draw of B·K·3·H·W values would slow GPU steps),
    # from a seed taken from ``g``, so runs stay reproducible and resumable
    seed = int(torch.randint(2**62, (1,), generator=g))
    device_g = torch.Generator(x0.device).manual_seed(seed)
    noise = torch.randn(x0.shape, generator=device_g, device=x0.device)
    noisy = scheduler.add_noise(x0, noise, t)
    if model.config.prediction_type == 'v_prediction':
        wanted = scheduler.get_velocity(x0, noise, t)
    else:
        wanted = noise
    return F.mse_loss(model(noisy, t, batch.inputs, batch.elevation, batch.prior).float(), wanted)


def validation_views(cfg: MVDiffTrainConfig, families: tuple[str, ...], seed: int,
                     prior: RenderedPrior | None) -> OrbitViews:
    """Render ``cfg.val_samples`` orbit samples (one instant) of ``families``, with priors."""
    offsets = cfg.model.offsets_deg
    data = DataConfig(families=families, num_samples=cfg.val_samples, seed=seed,
                      num_views=1 + len(offsets), image_size=cfg.model.image_size,
                      cameras='orbit', orbit_offsets=offsets, num_surface_points=16,
                      num_volume_points=0, num_near_points=0)
    batch = stack_samples([WorldDataset(data)[i] for i in range(cfg.val_samples)])
    views = OrbitViews.from_columns(batch.rgb, batch.K, batch.world_T_cam, offsets,
                                    'validation set')
    if prior is None:
        return views
    return replace(views, prior=render_priors(prior, views, offsets, 'validation prior views'))


@torch.no_grad()
def validation_psnr(model: MultiViewDiffusion, val: OrbitViews, cfg: MVDiffTrainConfig,
                    steps: int = 0) -> float:
    """Mean PSNR (dB) of views generated (fixed noise, ``steps`` or ``val_steps``) vs truth."""
    noise = model.initial_noise(len(val.elevation), torch.Generator().manual_seed(cfg.seed))
    device = torch.device(cfg.device)
    prior = None if val.prior is None else val.prior[:, 0].float().to(device)
    generated = model.generate(val.rgb[:, 0, 0].to(device), val.elevation.to(device), noise,
                               steps or cfg.val_steps, prior)
    return psnr(generated.float().cpu(), val.rgb[:, 0, 1:])


def choose_strength(cfg: MVDiffTrainConfig, val: dict[str, OrbitViews]) -> dict:
    """
    Set the best checkpoint's ``sample_strength`` to the one of ``cfg.strengths`` validating best.

    The score is the mean over ``val``'s splits of `validation_psnr` at the model's
    ``sample_steps``. Return (and write to ``strength.json``) the choice and every score.
    """
    path = Path(cfg.out_dir) / 'best.safetensors'
    model, _, extra = load_model(path, MultiViewDiffusion, MVDiffusionConfig, kind=KIND,
                                 device=cfg.device)
    scores = {}
    for strength in tqdm(cfg.strengths, desc='sample_strength', unit='value'):
        model.config = replace(model.config, sample_strength=strength)
        scores[strength] = {k: validation_psnr(model, v, cfg, model.config.sample_steps)
                            for k, v in val.items()}
    chosen = max(scores, key=lambda s: sum(scores[s].values()) / len(scores[s]))
    model.config = replace(model.config, sample_strength=chosen)
    save_checkpoint(path, model, model.config, kind=KIND, extra=extra)
    summary = {'sample_strength': chosen,
               'val_psnr': [{'strength': s, **v} for s, v in scores.items()]}
    (Path(cfg.out_dir) / 'strength.json').write_text(json.dumps(summary, indent=2) + '\n')
    return summary


def train(cfg: MVDiffTrainConfig, resume: bool = True) -> dict:
    """Run (or resume) training; return the summary also written to ``summary.json``."""
    device = start_run(cfg)
    cache = CachedDataset(Path(cfg.data_dir))
    columns = cache.columns
    views = OrbitViews.from_columns(columns['rgb'], columns['K'], columns['world_T_cam'],
                                    cfg.model.offsets_deg, cfg.data_dir)
    del cache, columns
    prior = None
    if cfg.model.has_prior:
        prior = load_prior(cfg.model.prior_lrm, cfg.model.prior_grid)
        views = replace(views, prior=cached_priors(cfg, views, prior))
    views = views.to(device)
    val = {'seen': validation_views(cfg, SEEN_FAMILIES, 10_001, prior),
           'held_out': validation_views(cfg, HELD_OUT_FAMILIES, 10_002, prior)}
    model = MultiViewDiffusion(cfg.model).to(device)
    scheduler = model.training_scheduler()
    orders, mirror = view_orders(cfg.model.offsets_deg, cfg.augment,
                                 any_input=not cfg.model.has_prior)

    def step_terms(g: torch.Generator) -> LossTerms:
        batch = draw_batch(views, cfg.batch_size, orders, mirror, g)
        return {'denoise': denoising_loss(model, scheduler, batch, g)}

    trainee = Trainee(model, cfg.model, KIND, step_terms, lambda terms: terms['denoise'],
                      lambda: {k: validation_psnr(model, v, cfg) for k, v in val.items()},
                      score_name='psnr')
    summary = run_training(cfg, trainee, resume)
    if cfg.model.has_prior:
        summary['strength'] = choose_strength(cfg, val)
    return summary
