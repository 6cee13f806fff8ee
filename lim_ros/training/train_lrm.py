"""
``lim-ros train lrm``: train the LRM on cached samples of the synthetic world.

Reproducible from ``seed`` (batch choice, view split, rays); resumable from ``last`` (the full
training state, safetensors); keeps ``best`` (weights only, by validation IoU) and writes a
JSON-lines log and a summary. Validation IoU is computed on uniform points of a fixed set of
seen and held-out objects, rendered once at start.
"""

import dataclasses
from dataclasses import dataclass, field
import json
import math
from pathlib import Path
import time

from lim_ros.data.cache import CachedDataset
from lim_ros.data.dataset import DataConfig, WorldDataset, WorldSample
from lim_ros.models.checkpoint import load_training_state, save_checkpoint, save_training_state
from lim_ros.models.lrm import LRM, LRMConfig
from lim_ros.models.volume_renderer import render_rays
from lim_ros.training.batches import make_view_batch, stack_samples
from lim_ros.training.lrm_losses import LossWeights, point_losses, render_losses, total_loss
from lim_ros.world.families import HELD_OUT_FAMILIES, SEEN_FAMILIES
import torch
from tqdm import tqdm


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


def validation_set(cfg: LRMTrainConfig, families: tuple[str, ...], seed: int) -> WorldSample:
    """Render a fixed validation batch of ``cfg.val_samples`` objects of ``families``."""
    data = DataConfig(families=families, num_samples=cfg.val_samples, seed=seed,
                      num_views=cfg.max_views, image_size=cfg.model.image_size,
                      num_surface_points=256, num_near_points=256)
    dataset = WorldDataset(data)
    return stack_samples([dataset[i] for i in range(len(dataset))])


@torch.no_grad()
def validation_iou(model: LRM, val: WorldSample, cfg: LRMTrainConfig) -> float:
    """Mean IoU of predicted vs true occupancy at the uniform query points of ``val``."""
    model.eval()
    device = torch.device(cfg.device)
    n_uniform = DataConfig().num_volume_points
    views = torch.arange(val.rgb.shape[2])
    out = model(val.rgb[:, 0, views].to(device), val.K[:, views].to(device),
                val.world_T_cam[:, views].to(device))
    points = val.query_points[:, 0, :n_uniform].to(device)
    pred = model.decode(out.planes, points).sdf < 0
    true = val.query_sdf[:, 0, :n_uniform].to(device) < 0
    inter = (pred & true).sum(dim=1).float()
    union = (pred | true).sum(dim=1).float().clamp_min(1)
    model.train()
    return float((inter / union).mean())


def learning_rate(cfg: LRMTrainConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of ``lr``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(cfg.steps - cfg.warmup_steps, 1)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


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
    q = torch.randint(batch.query_points.shape[2], (cfg.query_points,), generator=g)
    s = torch.randint(batch.surface_points.shape[2], (cfg.surface_points,), generator=g)
    query = model.decode(out.planes, batch.query_points[:, 0, q].to(device))
    surface = model.decode(out.planes, batch.surface_points[:, 0, s].to(device))
    terms = point_losses(query, batch.query_sdf[:, 0, q].to(device), surface,
                         batch.surface_colours[:, 0, s].to(device),
                         batch.surface_canonical[:, 0, s].to(device), cfg.truncation)
    rays = render_rays(lambda p: model.decode(out.planes, p), vb.ray_origins.to(device),
                       vb.ray_dirs.to(device), cfg.render_samples, cfg.beta, g)
    terms.update(render_losses(rays, vb.ray_targets.to(device)))
    return terms


def train(cfg: LRMTrainConfig, resume: bool = True) -> dict:
    """Run (or resume) training; return the summary also written to ``summary.json``."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = torch.device(cfg.device)
    data = CachedDataset(Path(cfg.data_dir))
    val = {'seen': validation_set(cfg, SEEN_FAMILIES, 10_001),
           'held_out': validation_set(cfg, HELD_OUT_FAMILIES, 10_002)}
    model = LRM(cfg.model).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    g = torch.Generator().manual_seed(cfg.seed)
    step, best = 0, -1.0
    last = out_dir / 'last.safetensors'
    if resume and last.exists():
        _, step, rng = load_training_state(last, model, optimizer, LRMTrainConfig,
                                           kind='lrm-train')
        if rng is not None:
            g.set_state(rng)
        best = json.loads((out_dir / 'best.json').read_text())['val_iou'] if (
            out_dir / 'best.json').exists() else -1.0
    start = time.time()
    with (out_dir / 'log.jsonl').open('a' if step else 'w') as log:
        _train_loop(cfg, model, optimizer, data, val, g, step, best, log)
    summary = {'config': dataclasses.asdict(cfg), 'steps': cfg.steps,
               'wall_s': round(time.time() - start),
               'best': json.loads((out_dir / 'best.json').read_text())}
    (out_dir / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
    return summary


def _train_loop(cfg: LRMTrainConfig, model: LRM, optimizer: torch.optim.Optimizer,
                data: CachedDataset, val: dict[str, WorldSample], g: torch.Generator,
                first_step: int, best: float, log) -> None:
    """
    Train from ``first_step`` to ``cfg.steps``, logging every ``log_every`` steps.

    Every ``checkpoint_every`` steps (and at the end): validate, keep ``best`` when the mean
    validation IoU beats ``best``, and save the full training state as ``last``.
    """
    device = torch.device(cfg.device)
    out_dir = Path(cfg.out_dir)
    start = time.time()
    bar = tqdm(range(first_step, cfg.steps), initial=first_step, total=cfg.steps,
               desc='train lrm')
    for step in bar:
        for group in optimizer.param_groups:
            group['lr'] = learning_rate(cfg, step)
        idx = torch.randint(len(data), (cfg.batch_size,), generator=g)
        batch = stack_samples([data[int(i)] for i in idx])
        amp = cfg.amp and device.type == 'cuda'
        with torch.autocast('cuda', dtype=torch.bfloat16, enabled=amp):
            terms = train_step(model, batch, cfg, g)
            loss = total_loss(terms, cfg.losses)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        done = step + 1
        finished = done == cfg.steps
        logging = done % cfg.log_every == 0 or finished
        checkpointing = done % cfg.checkpoint_every == 0 or finished
        if not (logging or checkpointing):
            continue
        record = {'step': done, 'loss': loss.item(), 'lr': learning_rate(cfg, step),
                  'elapsed_s': round(time.time() - start, 1),
                  **{k: round(float(v), 5) for k, v in terms.items()}}
        bar.set_postfix(loss=f'{loss.item():.4f}', sdf=f'{terms["sdf"].item():.4f}')
        if checkpointing:
            ious = {k: validation_iou(model, v, cfg) for k, v in val.items()}
            record.update({f'val_iou_{k}': round(v, 4) for k, v in ious.items()})
            score = sum(ious.values()) / len(ious)
            if score > best:
                best = score
                save_checkpoint(out_dir / 'best.safetensors', model, cfg.model, kind='lrm',
                                extra={'step': done, **{f'val_iou_{k}': v
                                                        for k, v in ious.items()}})
                (out_dir / 'best.json').write_text(json.dumps({'step': done, 'val_iou': best,
                                                               **ious}))
            save_training_state(out_dir / 'last.safetensors', model, optimizer, cfg,
                                kind='lrm-train', step=done, rng_state=g.get_state())
        log.write(json.dumps(record) + '\n')
        log.flush()
