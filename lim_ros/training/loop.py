"""
The training loop the LRM, LIM and multi-view diffusion trainers share.

It owns what does not depend on the model: AdamW over the trainable parameters, linear
warm-up then cosine decay, bfloat16 autocast on CUDA, gradient clipping, a tqdm bar, a
JSON-lines log every ``log_every`` steps, and every ``checkpoint_every`` steps (and at the
end) validation, ``best.safetensors`` (weights and config only, when the mean validation
score improves) and ``last.safetensors`` (the full training state, so a run resumes
bit-identically from its seed). The trainer gives the loss terms of one step and the
validation scores (higher is better).
"""

from collections.abc import Callable
import dataclasses
import json
import math
from pathlib import Path
import time
from typing import Any, ClassVar, Protocol

from lim_ros.errors import ConfigError
from lim_ros.models.checkpoint import load_training_state, save_checkpoint, save_training_state
import torch
from torch import nn
from tqdm import tqdm

LossTerms = dict[str, torch.Tensor]


class LoopConfig(Protocol):
    """
    The fields of a trainer's config that the loop reads.

    Read-only, as a frozen dataclass's fields are; the config is a dataclass instance
    (``__dataclass_fields__``), since the run's summary stores ``dataclasses.asdict`` of it.
    """

    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]

    @property
    def out_dir(self) -> str: ...

    @property
    def steps(self) -> int: ...

    @property
    def lr(self) -> float: ...

    @property
    def weight_decay(self) -> float: ...

    @property
    def warmup_steps(self) -> int: ...

    @property
    def seed(self) -> int: ...

    @property
    def device(self) -> str: ...

    @property
    def amp(self) -> bool: ...

    @property
    def threads(self) -> int: ...  # torch CPU threads; 0 keeps torch's default

    @property
    def log_every(self) -> int: ...

    @property
    def checkpoint_every(self) -> int: ...


def start_run(cfg: LoopConfig) -> torch.device:
    """Apply the run's CPU threads and global seed (before building models); return its device."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    return torch.device(cfg.device)


def load_initial_weights(model: nn.Module, path: str,
                         load: Callable[[str], nn.Module]) -> None:
    """Copy the weights of checkpoint ``path`` (read by ``load``) into ``model``, same config."""
    start = load(path)
    if start.config != model.config:
        raise ConfigError(f'init_checkpoint: {path} holds a different model config than '
                          f'`model` ({start.config})')
    model.load_state_dict(start.state_dict())


def learning_rate(cfg: LoopConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to a tenth of ``lr``."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(cfg.steps - cfg.warmup_steps, 1)
    return cfg.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress)))


@dataclasses.dataclass(frozen=True)
class Trainee:
    """What one run trains: the model saved in checkpoints and how to score it."""

    model: nn.Module
    model_config: Any  # stored in the checkpoints
    kind: str  # checkpoint kind: 'lrm', 'lim', 'mvdiff'
    step_terms: Callable[[torch.Generator], LossTerms]  # one batch's unweighted loss terms
    total: Callable[[LossTerms], torch.Tensor]  # their weighted sum
    validate: Callable[[], dict[str, float]]  # {split: score}, model left in train mode
    score_name: str = 'iou'  # logged and stored as val_<score_name>_<split>


def run_training(cfg: LoopConfig, trainee: Trainee, resume: bool = True) -> dict:
    """Train (or resume) ``trainee``; return the summary also written to ``summary.json``."""
    out_dir = Path(cfg.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    params = [p for p in trainee.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    g = torch.Generator().manual_seed(cfg.seed)
    step, best = 0, -1.0
    last, best_json = out_dir / 'last.safetensors', out_dir / 'best.json'
    kind = f'{trainee.kind}-train'
    if resume and last.exists():
        _, step, rng = load_training_state(last, trainee.model, optimizer, type(cfg), kind=kind)
        if rng is not None:
            g.set_state(rng)
        if best_json.exists():
            best = json.loads(best_json.read_text())['val_score']
    start = time.time()
    trainee.model.train()
    with (out_dir / 'log.jsonl').open('a' if step else 'w') as log:
        bar = tqdm(range(step, cfg.steps), initial=step, total=cfg.steps,
                   desc=f'train {trainee.kind}')
        for step in bar:
            record = _step(cfg, trainee, optimizer, params, g, step)
            done = step + 1
            finished = done == cfg.steps
            if done % cfg.checkpoint_every == 0 or finished:
                scores = trainee.validate()
                named = {f'val_{trainee.score_name}_{k}': v for k, v in scores.items()}
                record.update({k: round(v, 4) for k, v in named.items()})
                score = sum(scores.values()) / len(scores)
                if score > best:
                    best = score
                    save_checkpoint(out_dir / 'best.safetensors', trainee.model,
                                    trainee.model_config, kind=trainee.kind,
                                    extra={'step': done, **named})
                    best_json.write_text(json.dumps({'step': done, 'val_score': best,
                                                     **scores}))
                save_training_state(last, trainee.model, optimizer, cfg, kind=kind, step=done,
                                    rng_state=g.get_state())
            elif done % cfg.log_every:
                continue
            record['elapsed_s'] = round(time.time() - start, 1)
            bar.set_postfix(loss=f'{record["loss"]:.4f}')
            log.write(json.dumps(record) + '\n')
            log.flush()
    summary = {'config': dataclasses.asdict(cfg), 'steps': cfg.steps,
               'wall_s': round(time.time() - start), 'best': json.loads(best_json.read_text())}
    (out_dir / 'summary.json').write_text(json.dumps(summary, indent=2) + '\n')
    return summary


def _step(cfg: LoopConfig, trainee: Trainee, optimizer: torch.optim.Optimizer,
          params: list[nn.Parameter], g: torch.Generator, step: int) -> dict:
    """Run one optimisation step; return its log record."""
    lr = learning_rate(cfg, step)
    for group in optimizer.param_groups:
        group['lr'] = lr
    amp = cfg.amp and torch.device(cfg.device).type == 'cuda'
    with torch.autocast('cuda', dtype=torch.bfloat16, enabled=amp):
        terms = trainee.step_terms(g)
        loss = trainee.total(terms)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    return {'step': step + 1, 'loss': loss.item(), 'lr': lr,
            **{k: round(v.item(), 5) for k, v in terms.items()}}
