"""
``lim-ros train mvdiff``: train the multi-view diffusion model on an orbit-camera cache.

The cache (``lim-ros data cache --cameras orbit``) holds, per sample and instant, a random view
and the same camera turned by the model's ``offsets_deg``. A step draws B (sample, instant)
pairs; when the offsets are the uniform cycle k·360/(K+1) any of the K+1 views can be the input
(the others, in cyclic order, are its targets), and when they are symmetric (θ ↔ 360 - θ) a
horizontal mirror of all views with the targets in reverse order is an equally valid sample.
Loss: MSE of the UNet's v (or epsilon) prediction at a uniform DDPM timestep.

Validation: PSNR of the views generated (fixed noise, ``val_steps`` DDIM steps) from the input
view of a fixed set of seen and held-out objects against their true renders.
"""

from dataclasses import dataclass, field
from pathlib import Path

from einops import rearrange
from lim_ros.cameras import Cameras, elevation_deg, orbit
from lim_ros.data.cache import CachedDataset
from lim_ros.data.dataset import DataConfig, WorldDataset
from lim_ros.errors import ConfigError
from lim_ros.metrics import psnr
from lim_ros.models.multiview_diffusion import KIND, MultiViewDiffusion, MVDiffusionConfig
from lim_ros.training.batches import stack_samples
from lim_ros.training.loop import LossTerms, run_training, Trainee
from lim_ros.world.families import HELD_OUT_FAMILIES, SEEN_FAMILIES
import torch
import torch.nn.functional as F


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


@dataclass(frozen=True)
class OrbitViews:
    """Images of N orbit samples (T instants, 1 + K views) and the elevation of each."""

    rgb: torch.Tensor  # (N, T, 1 + K, 3, H, W) in [0, 1]; view 0 the input, then the offsets
    elevation: torch.Tensor  # (N,) degrees

    @classmethod
    def from_columns(cls, rgb: torch.Tensor, K: torch.Tensor, world_T_cam: torch.Tensor,
                     offsets_deg: tuple[float, ...], where: str) -> 'OrbitViews':
        """Check that the cameras are orbits by ``offsets_deg`` and keep images and elevation."""
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
        return cls(rgb, elevation_deg(source))


def view_orders(offsets_deg: tuple[float, ...], augment: bool) -> tuple[torch.Tensor, bool]:
    """
    Return the admissible view orders (R, 1 + K) and whether mirroring is admissible.

    Order r lists the view used as input, then its targets for each offset. With uniform
    offsets k·360/(K+1) every rotation of the cycle is one; otherwise only the identity.
    """
    k = len(offsets_deg)
    identity = torch.arange(k + 1)
    if not augment:
        return identity[None], False
    cyclic = all(abs(o - 360.0 * (i + 1) / (k + 1)) < 1e-6 for i, o in enumerate(offsets_deg))
    mirror = all(abs(a + b - 360.0) < 1e-6 for a, b in zip(offsets_deg, offsets_deg[::-1]))
    if not cyclic:
        return identity[None], mirror
    return torch.stack([(identity + r) % (k + 1) for r in range(k + 1)]), mirror


def draw_batch(views: OrbitViews, batch_size: int, orders: torch.Tensor, mirror: bool,
               g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Draw inputs (B, 3, H, W), targets (B, K, 3, H, W), elevations (B,), on rgb's device."""
    n, t = views.rgb.shape[:2]
    sample = torch.randint(n, (batch_size,), generator=g)
    instant = torch.randint(t, (batch_size,), generator=g)
    order = orders[torch.randint(len(orders), (batch_size,), generator=g)]
    device = views.rgb.device
    rgb = views.rgb[sample.to(device), instant.to(device)]  # (B, 1 + K, 3, H, W)
    rgb = rgb[torch.arange(batch_size, device=device)[:, None], order.to(device)].float()
    if mirror:
        flip = (torch.rand(batch_size, generator=g) < 0.5).to(device)
        mirrored = torch.cat([rgb[:, :1], rgb[:, 1:].flip(1)], dim=1).flip(-1)
        rgb = torch.where(flip[:, None, None, None, None], mirrored, rgb)
    return rgb[:, 0], rgb[:, 1:], views.elevation[sample.to(views.elevation.device)]


def denoising_loss(model: MultiViewDiffusion, scheduler, inputs: torch.Tensor,
                   targets: torch.Tensor, elevation: torch.Tensor,
                   g: torch.Generator) -> torch.Tensor:
    """MSE of the prediction (v or epsilon) for ``targets`` (B, K, 3, H, W) noised at random t."""
    x0 = rearrange(2.0 * targets - 1.0, 'b k c h w -> b (k c) h w')
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
    return F.mse_loss(model(noisy, t, inputs, elevation).float(), wanted)


def validation_views(cfg: MVDiffTrainConfig, families: tuple[str, ...], seed: int) -> OrbitViews:
    """Render ``cfg.val_samples`` orbit samples (one instant) of ``families``."""
    offsets = cfg.model.offsets_deg
    data = DataConfig(families=families, num_samples=cfg.val_samples, seed=seed,
                      num_views=1 + len(offsets), image_size=cfg.model.image_size,
                      cameras='orbit', orbit_offsets=offsets, num_surface_points=16,
                      num_volume_points=0, num_near_points=0)
    batch = stack_samples([WorldDataset(data)[i] for i in range(cfg.val_samples)])
    return OrbitViews.from_columns(batch.rgb, batch.K, batch.world_T_cam, offsets,
                                   'validation set')


@torch.no_grad()
def validation_psnr(model: MultiViewDiffusion, val: OrbitViews, cfg: MVDiffTrainConfig) -> float:
    """Mean PSNR (dB) of generated vs true target views of ``val`` (fixed noise)."""
    noise = model.initial_noise(len(val.elevation), torch.Generator().manual_seed(cfg.seed))
    device = torch.device(cfg.device)
    generated = model.generate(val.rgb[:, 0, 0].to(device), val.elevation.to(device), noise,
                               cfg.val_steps)
    return psnr(generated.float().cpu(), val.rgb[:, 0, 1:])


def train(cfg: MVDiffTrainConfig, resume: bool = True) -> dict:
    """Run (or resume) training; return the summary also written to ``summary.json``."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    device = torch.device(cfg.device)
    cache = CachedDataset(Path(cfg.data_dir))
    columns = cache.columns
    views = OrbitViews.from_columns(columns['rgb'], columns['K'], columns['world_T_cam'],
                                    cfg.model.offsets_deg, cfg.data_dir)
    views = OrbitViews(views.rgb.to(device), views.elevation.to(device))
    del cache, columns
    val = {'seen': validation_views(cfg, SEEN_FAMILIES, 10_001),
           'held_out': validation_views(cfg, HELD_OUT_FAMILIES, 10_002)}
    model = MultiViewDiffusion(cfg.model).to(device)
    scheduler = model.training_scheduler()
    orders, mirror = view_orders(cfg.model.offsets_deg, cfg.augment)

    def step_terms(g: torch.Generator) -> LossTerms:
        inputs, targets, elevation = draw_batch(views, cfg.batch_size, orders, mirror, g)
        return {'denoise': denoising_loss(model, scheduler, inputs, targets, elevation, g)}

    trainee = Trainee(model, cfg.model, KIND, step_terms, lambda terms: terms['denoise'],
                      lambda: {k: validation_psnr(model, v, cfg) for k, v in val.items()},
                      score_name='psnr')
    return run_training(cfg, trainee, resume)
