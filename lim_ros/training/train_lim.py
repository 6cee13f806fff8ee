"""
``lim-ros train lim``: train LIM on sequences of the synthetic world, with the LRM frozen.

Each cached sample holds T instants t_0 < … < t_{T-1} of one object seen by a static rig.
A step picks source and target instants s < e with an instant m between them and sets
α = (t_m - t_s) / (t_e - t_s); gaps vary with the cache's gap range and with the choice of
(s, e), so small and large motions are both seen. The frozen LRM's outputs at every instant
are computed once at start (`KeyframeSet`). Losses at t_m:

- triplane: MSE between LIM's planes and the LRM's planes at t_m (the paper's loss), plus a
  lighter MSE on the output token features, which LIM reads back when chaining;
- distillation: L1 between the SDFs decoded from LIM's planes and from the LRM's at t_m
  (truncated), at the instant's query points: the triplane loss measured where it matters;
- field: the LRM's point and rendering losses (`field_losses`) on LIM's planes, against the
  world's ground truth at t_m (canonical coordinates off by default; lim_base.yaml turns
  them on, with the position at the sequence's first instant as target);
- causal consistency (the paper's): pass 1 runs LIM from s to a random α_r < α, pass 2 runs
  LIM from pass 1's output to e at α' = (α - α_r) / (1 - α_r), and pass 2's triplane and
  features take the same triplane losses. ``losses.causal = 0`` is the ablation without it.

Validation: IoU at uniform points of LIM's reconstruction at α = 0.5 on fixed large-motion
sequences of seen and held-out families (linear interpolation's IoU on the same set is written
to ``linear_val.json`` for reference).
"""

from dataclasses import dataclass, field
import json
from pathlib import Path

from lim_ros.data.cache import CachedDataset
from lim_ros.data.dataset import DataConfig, WorldDataset, WorldSample
from lim_ros.errors import ConfigError
from lim_ros.metrics import mean_sign_iou
from lim_ros.models.lim import LIM, LIMConfig, load_lim, one_path
from lim_ros.models.lrm import blend, load_lrm, LRM
from lim_ros.training.batches import make_view_batch, stack_samples
from lim_ros.training.field_losses import field_losses
from lim_ros.training.keyframe_set import KeyframeSet
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
import torch.nn.functional as F


def triplets(instants: int) -> list[tuple[int, int, int]]:
    """Return every (source, target, middle) instant triplet s < m < e of T instants."""
    if instants < 3:
        raise ConfigError(f'data_dir: LIM training needs samples of at least 3 instants, '
                          f'found {instants} (cache with --times 4)')
    return [(s, e, m) for s in range(instants) for e in range(s + 2, instants)
            for m in range(s + 1, e)]


@dataclass(frozen=True)
class LIMLossWeights:
    """Weights of LIM's loss terms (0 disables one)."""

    plane: float = 1.0
    feature: float = 0.1
    distill: float = 3.0  # LIM's decoded SDF against the LRM's decoded SDF at t_m
    causal: float = 1.0  # the second pass's triplane terms; 0: the ablation without the loss
    field: LossWeights = field(
        default_factory=lambda: LossWeights(occupancy=0.0, canonical=0.0))


@dataclass(frozen=True)
class LIMTrainConfig:
    """Everything one LIM training run depends on (saved in its checkpoints)."""

    model: LIMConfig = field(default_factory=LIMConfig)
    losses: LIMLossWeights = field(default_factory=LIMLossWeights)
    lrm_checkpoint: str = 'models/lrm_tiny.safetensors'
    initialise_from_lrm: bool = True
    init_checkpoint: str = ''  # a LIM safetensors (same model config) to fine-tune from
    correction_heads: bool = True  # False: the heads held at zero, only the motion gather learns
    data_dir: str = 'data/lim_train'
    out_dir: str = 'runs/lim_tiny'
    input_views: int = 4  # views 0..V_in-1 are the LRM's inputs, the rest give rendering rays
    steps: int = 1000
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    query_points: int = 1024
    surface_points: int = 512
    render_rays: int = 128
    render_samples: int = 32
    beta: float = 0.02
    truncation: float = 0.1
    seed: int = 0
    device: str = 'cpu'
    amp: bool = False  # bfloat16 autocast, CUDA only
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    log_every: int = 25
    checkpoint_every: int = 250
    val_samples: int = 12  # per split (seen, held-out)
    val_gap: float = 1.0  # seconds between the validation keyframes: large motion


def validation_set(cfg: LIMTrainConfig, lrm: LRM, families: tuple[str, ...],
                   seed: int) -> tuple[KeyframeSet, torch.Tensor, torch.Tensor]:
    """Return keyframes at t and t + ``val_gap``, and uniform points and their SDF between."""
    data = DataConfig(families=families, num_samples=cfg.val_samples, seed=seed,
                      num_views=cfg.input_views, image_size=lrm.config.image_size, num_times=3,
                      gap_range=(cfg.val_gap, cfg.val_gap), time_fractions=(0.0, 0.5, 1.0),
                      num_surface_points=64, num_near_points=64)
    samples = stack_samples([WorldDataset(data)[i] for i in range(cfg.val_samples)])
    keyframes = KeyframeSet.compute(lrm, samples.rgb, samples.K, samples.world_T_cam,
                                    cfg.input_views, torch.device(cfg.device))
    n = data.num_volume_points
    return keyframes, samples.query_points[:, 1, :n], samples.query_sdf[:, 1, :n]


@torch.no_grad()
def validation_iou(interpolate, lrm: LRM, val: tuple[KeyframeSet, torch.Tensor, torch.Tensor],
                   device: torch.device) -> float:
    """Mean IoU at α = 0.5 of ``interpolate(source, target, alpha)`` on a validation set."""
    keyframes, points, sdf = val
    everything = torch.arange(len(keyframes))
    source, target = keyframes.at(everything, 0, device), keyframes.at(everything, 2, device)
    out = interpolate(source, target, torch.full((len(keyframes),), 0.5, device=device))
    return mean_sign_iou(lrm.decode(out.planes, points.to(device)).sdf, sdf)


def lim_terms(lim: LIM, lrm: LRM, batch: WorldSample, keyframes: KeyframeSet, idx: torch.Tensor,
              cfg: LIMTrainConfig, g: torch.Generator) -> LossTerms:
    """Return the unweighted loss terms of one batch (samples ``idx`` of ``keyframes``)."""
    device = torch.device(cfg.device)
    choices = triplets(batch.times.shape[1])
    s, e, m = choices[int(torch.randint(len(choices), (1,), generator=g))]
    times = batch.times
    alpha = ((times[:, m] - times[:, s]) / (times[:, e] - times[:, s])).to(device)
    source, target = keyframes.at(idx, s, device), keyframes.at(idx, e, device)
    reference = keyframes.at(idx, m, device)
    out = lim(source, target, alpha)
    q = torch.randint(batch.query_points.shape[2], (cfg.query_points,), generator=g)
    points = batch.query_points[:, m, q].to(device)
    with torch.no_grad():
        teacher = lrm.decode(reference.planes, points).sdf.clamp(-cfg.truncation, cfg.truncation)
    student = lrm.decode(out.planes, points).sdf.clamp(-cfg.truncation, cfg.truncation)
    terms = {'plane': F.mse_loss(out.planes, reference.planes),
             'feature': F.mse_loss(out.features, reference.features),
             'distill': (student - teacher).abs().mean()}
    views = make_view_batch(batch, m, torch.arange(cfg.input_views), cfg.render_rays, g)
    terms.update(field_losses(lambda p: lrm.decode(out.planes, p), batch, m, views, cfg, g))
    if cfg.losses.causal > 0:
        alpha_r = torch.rand(len(idx), generator=g).to(device) * alpha
        via = lim(source, target, alpha_r)
        second = lim(via, target, (alpha - alpha_r) / (1.0 - alpha_r))
        terms['causal_plane'] = F.mse_loss(second.planes, reference.planes)
        terms['causal_feature'] = F.mse_loss(second.features, reference.features)
    return terms


def weighted_total(terms: LossTerms, weights: LIMLossWeights) -> torch.Tensor:
    """Return the weighted sum of LIM's terms."""
    own = ('plane', 'feature', 'distill', 'causal_plane', 'causal_feature')
    field_terms = {k: v for k, v in terms.items() if k not in own}
    total = (weights.plane * terms['plane'] + weights.feature * terms['feature']
             + weights.distill * terms['distill'] + total_loss(field_terms, weights.field))
    if 'causal_plane' in terms:
        total = total + weights.causal * (weights.plane * terms['causal_plane']
                                          + weights.feature * terms['causal_feature'])
    return total


def train(cfg: LIMTrainConfig, resume: bool = True) -> dict:
    """Run (or resume) training; return the summary also written to ``summary.json``."""
    device = start_run(cfg)
    lrm = load_lrm(cfg.lrm_checkpoint, device).requires_grad_(False)
    cfg.model.check_lrm(lrm.config)
    data = CachedDataset(Path(cfg.data_dir))
    triplets(data.columns['times'].shape[1])
    keyframes = KeyframeSet.compute(lrm, data.columns['rgb'], data.columns['K'],
                                    data.columns['world_T_cam'], cfg.input_views, device)
    val = {'seen': validation_set(cfg, lrm, SEEN_FAMILIES, 30_001),
           'held_out': validation_set(cfg, lrm, HELD_OUT_FAMILIES, 30_002)}
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    baseline = {k: validation_iou(blend, lrm, v, device) for k, v in val.items()}
    (out_dir / 'linear_val.json').write_text(json.dumps(baseline) + '\n')
    lim = LIM(cfg.model).to(device)
    if cfg.init_checkpoint:
        load_initial_weights(lim, cfg.init_checkpoint, load_lim)
    elif cfg.initialise_from_lrm:
        lim.initialise_from(lrm)
    if not cfg.correction_heads:
        lim = one_path(lim, 'gather')
        for layer in lim.correction_layers():
            layer.requires_grad_(False)

    def step_terms(g: torch.Generator) -> LossTerms:
        idx = torch.randint(len(data), (cfg.batch_size,), generator=g)
        batch = stack_samples([data[int(i)] for i in idx])
        return lim_terms(lim, lrm, batch, keyframes, idx, cfg, g)

    def validate() -> dict[str, float]:
        lim.eval()
        scores = {k: validation_iou(lim, lrm, v, device) for k, v in val.items()}
        lim.train()
        return scores

    trainee = Trainee(lim, cfg.model, 'lim', step_terms,
                      lambda terms: weighted_total(terms, cfg.losses), validate)
    return run_training(cfg, trainee, resume)
