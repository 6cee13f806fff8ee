"""
``lim-ros train lrm``: train the LRM on cached samples of the synthetic world.

Reproducible from ``seed`` (batch choice, view split, rays); checkpoints, resuming and the log
are `lim_ros.training.loop`'s; ``init_checkpoint`` starts from a trained LRM's weights (the
optimiser and schedule start afresh). Validation IoU is computed on uniform points of a fixed
set of seen and held-out objects, rendered once at start.
"""

from dataclasses import dataclass, field
from pathlib import Path

from lim_ros.data.cache import CachedDataset
from lim_ros.data.dataset import DataConfig, WorldDataset, WorldSample
from lim_ros.metrics import mean_sign_iou
from lim_ros.models.lrm import load_lrm, LRM, LRMConfig
from lim_ros.training.batches import make_view_batch, stack_samples
from lim_ros.training.field_losses import field_losses
from lim_ros.training.loop import (
    load_initial_weights,
    LossTerms,
    run_training,
    start_run,
    Trainee,
)
from lim_ros.training.lrm_losses import LossWeights, total_loss
from lim_ros.world.families import HELD_OUT_FAMILIES, SEEN_FAMILIES
import torch


@dataclass(frozen=True)
class LRMTrainConfig:
    """Everything one LRM training run depends on (saved in its checkpoints)."""

    model: LRMConfig = field(default_factory=LRMConfig)
    losses: LossWeights = field(default_factory=LossWeights)
    data_dir: str = 'data/lrm_train'
    out_dir: str = 'runs/lrm_tiny'
    steps: int = 6000
    batch_size: int = 8
    lr: float = 4e-4
    weight_decay: float = 0.01
    warmup_steps: int = 200
    min_views: int = 1
    max_views: int = 4
    max_views_fraction: float = 0.5  # share of steps that use max_views inputs
    query_points: int = 2048
    surface_points: int = 1024
    render_rays: int = 256
    render_samples: int = 48
    beta: float = 0.02
    truncation: float = 0.1
    seed: int = 0
    device: str = 'cpu'
    amp: bool = False  # bfloat16 autocast, CUDA only
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    log_every: int = 25
    checkpoint_every: int = 250
    val_samples: int = 16  # per split (seen, held-out)
    init_checkpoint: str = ''  # an LRM safetensors (same model config) to fine-tune from


def validation_set(families: tuple[str, ...], seed: int, samples: int, views: int,
                   image_size: int) -> WorldSample:
    """Render a fixed validation batch of ``samples`` objects of ``families``, ``views`` each."""
    data = DataConfig(families=families, num_samples=samples, seed=seed, num_views=views,
                      image_size=image_size, num_surface_points=256, num_near_points=256)
    dataset = WorldDataset(data)
    return stack_samples([dataset[i] for i in range(len(dataset))])


def validation_sets(samples: int, views: int, image_size: int) -> dict[str, WorldSample]:
    """Return the fixed seen and held-out validation batches of LRM training runs."""
    return {'seen': validation_set(SEEN_FAMILIES, 10_001, samples, views, image_size),
            'held_out': validation_set(HELD_OUT_FAMILIES, 10_002, samples, views, image_size)}


@torch.no_grad()
def validation_iou(model: LRM, val: WorldSample, device: torch.device) -> float:
    """Mean IoU of predicted vs true occupancy at the uniform query points of ``val``."""
    model.eval()
    n_uniform = DataConfig().num_volume_points
    views = torch.arange(val.rgb.shape[2])
    out = model(val.rgb[:, 0, views].to(device), val.K[:, views].to(device),
                val.world_T_cam[:, views].to(device))
    points = val.query_points[:, 0, :n_uniform].to(device)
    iou = mean_sign_iou(model.decode(out.planes, points).sdf, val.query_sdf[:, 0, :n_uniform])
    model.train()
    return iou


def train_step(model: LRM, batch: WorldSample, cfg: LRMTrainConfig,
               g: torch.Generator) -> dict[str, torch.Tensor]:
    """Forward one batch; return the loss terms (not yet weighted)."""
    device = torch.device(cfg.device)
    total_views = batch.rgb.shape[2]
    use_max = float(torch.rand((), generator=g)) < cfg.max_views_fraction
    high = min(cfg.max_views, total_views - 1)
    v_in = high if use_max else int(torch.randint(cfg.min_views, high + 1, (1,), generator=g))
    views = torch.randperm(total_views, generator=g)[:v_in]
    vb = make_view_batch(batch, 0, views, cfg.render_rays, g)
    out = model(vb.rgb.to(device), vb.K.to(device), vb.world_T_cam.to(device))
    return field_losses(lambda p: model.decode(out.planes, p), batch, 0, vb, cfg, g)


def train(cfg: LRMTrainConfig, resume: bool = True) -> dict:
    """Run (or resume) training; return the summary also written to ``summary.json``."""
    device = start_run(cfg)
    data = CachedDataset(Path(cfg.data_dir))
    val = validation_sets(cfg.val_samples, cfg.max_views, cfg.model.image_size)
    model = LRM(cfg.model).to(device)
    if cfg.init_checkpoint:
        load_initial_weights(model, cfg.init_checkpoint, load_lrm)

    def step_terms(g: torch.Generator) -> LossTerms:
        idx = torch.randint(len(data), (cfg.batch_size,), generator=g)
        return train_step(model, stack_samples([data[int(i)] for i in idx]), cfg, g)

    trainee = Trainee(model, cfg.model, 'lrm', step_terms,
                      lambda terms: total_loss(terms, cfg.losses),
                      lambda: {k: validation_iou(model, v, device) for k, v in val.items()})
    return run_training(cfg, trainee, resume)
