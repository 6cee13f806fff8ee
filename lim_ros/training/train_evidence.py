"""
``lim-ros train evidence``: give a trained LRM view evidence and fit its decoder correction.

The LRM named by ``base`` is frozen; its copy with ``evidence_samples`` K gains the evidence
channels (`lim_ros.models.view_evidence`) and the decoder's correction MLP, the only part
trained. The frozen learned planes do not change during the run, so they are computed once,
for every cached sample and every input-view set of ``view_sets`` (kept in float16), and a
step only reads the evidence of its views and decodes: far cheaper than a forward pass of
the LRM, which makes the run fit a CPU. Losses are the LRM's point and rendering terms
(`field_losses`, rays from the views not given as input); checkpoints, resuming, the log
and validation IoU are those of `lim-ros train lrm`, and ``best.safetensors`` is a complete
LRM.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path

from lim_ros.data.cache import CachedDataset
from lim_ros.errors import ConfigError
from lim_ros.models.lrm import load_lrm, LRM
from lim_ros.models.view_evidence import evidence_planes
from lim_ros.training.batches import make_view_batch, stack_samples
from lim_ros.training.field_losses import field_losses
from lim_ros.training.loop import LossTerms, run_training, start_run, Trainee
from lim_ros.training.lrm_losses import LossWeights, total_loss
from lim_ros.training.train_lrm import validation_iou, validation_sets
import torch
from tqdm import tqdm


@dataclass(frozen=True)
class EvidenceTrainConfig:
    """Everything one evidence run depends on (saved in its checkpoints)."""

    base: str = 'models/lrm_base.safetensors'
    evidence_samples: int = 48  # K
    view_sets: tuple[tuple[int, ...], ...] = ((0, 1, 2, 3), (3, 4, 5), (5,))
    losses: LossWeights = field(default_factory=LossWeights)
    data_dir: str = 'data/ft_creature'
    out_dir: str = 'runs/lrm_evidence'
    steps: int = 500
    batch_size: int = 8
    lr: float = 3e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    query_points: int = 2048
    surface_points: int = 1024
    render_rays: int = 128
    render_samples: int = 48
    beta: float = 0.02
    truncation: float = 0.1
    seed: int = 0
    device: str = 'cpu'
    amp: bool = False  # bfloat16 autocast, CUDA only
    threads: int = 0
    log_every: int = 25
    checkpoint_every: int = 125
    val_samples: int = 16  # per split (seen, held-out), each with the largest set's views
    precompute_batch: int = 16


def evidence_model(base: LRM, samples: int) -> LRM:
    """Return a copy of ``base`` with ``samples`` evidence slices; only the correction trains."""
    if base.config.evidence_samples:
        raise ConfigError('base: expected an LRM without view evidence, got evidence_samples '
                          f'{base.config.evidence_samples}')
    model = LRM(replace(base.config, evidence_samples=samples))
    model.load_state_dict(base.state_dict(), strict=False)  # all but the new correction
    for name, parameter in model.named_parameters():
        parameter.requires_grad_(name.startswith('decoder.correction.'))
    return model


def check_view_sets(view_sets: tuple[tuple[int, ...], ...], available: int) -> None:
    """Raise `ConfigError` unless every set names distinct views and leaves one to render."""
    for views in view_sets:
        if not views or len(set(views)) != len(views) or len(views) >= available \
                or min(views) < 0 or max(views) >= available:
            raise ConfigError(f'view_sets: each set needs 1 to {available - 1} distinct view '
                              f"indices below {available} (the cache's views, one left for "
                              f'rendering), got {views}')


@torch.no_grad()
def learned_planes(base: LRM, data: CachedDataset, views: tuple[int, ...], batch: int,
                   device: torch.device) -> torch.Tensor:
    """Return ``base``'s planes (N, 3, C, R·s, R·s), float16, of every sample from ``views``."""
    out = []
    v = torch.tensor(views)
    for start in tqdm(range(0, len(data), batch), desc=f'planes from views {list(views)}'):
        b = stack_samples([data[i] for i in range(start, min(start + batch, len(data)))])
        planes = base(b.rgb[:, 0, v].to(device), b.K[:, v].to(device),
                      b.world_T_cam[:, v].to(device)).planes
        out.append(planes.half().cpu())
    return torch.cat(out)


def train(cfg: EvidenceTrainConfig, resume: bool = True) -> dict:
    """Run (or resume) the evidence run; return the summary also written to ``summary.json``."""
    device = start_run(cfg)
    data = CachedDataset(Path(cfg.data_dir))
    check_view_sets(cfg.view_sets, data[0].rgb.shape[1])
    base = load_lrm(cfg.base, device)
    model = evidence_model(base, cfg.evidence_samples).to(device)
    val = validation_sets(cfg.val_samples, max(map(len, cfg.view_sets)),
                          model.config.image_size)
    cached = [learned_planes(base, data, s, cfg.precompute_batch, device)
              for s in cfg.view_sets]
    del base
    n, k = model.config.plane_resolution, cfg.evidence_samples

    def step_terms(g: torch.Generator) -> LossTerms:
        which = int(torch.randint(len(cfg.view_sets), (1,), generator=g))
        views = torch.tensor(cfg.view_sets[which])
        idx = torch.randint(len(data), (cfg.batch_size,), generator=g)
        batch = stack_samples([data[int(i)] for i in idx])
        vb = make_view_batch(batch, 0, views, cfg.render_rays, g)
        evidence = evidence_planes(vb.rgb.to(device), vb.K.to(device),
                                   vb.world_T_cam.to(device), n, k)
        planes = torch.cat([cached[which][idx].to(device).float(), evidence], dim=2)
        return field_losses(lambda p: model.decode(planes, p), batch, 0, vb, cfg, g)

    trainee = Trainee(model, model.config, 'lrm', step_terms,
                      lambda terms: total_loss(terms, cfg.losses),
                      lambda: {key: validation_iou(model, v, device) for key, v in val.items()})
    return run_training(cfg, trainee, resume)
