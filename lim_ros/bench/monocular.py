"""
``lim-ros bench monocular``: one camera (two ways) against four, on the same sequences.

Every sequence is one object of the synthetic world at five instants t_0 + α·gap, α ∈ {0,
0.25, 0.5, 0.75, 1}, seen by a random camera looking at the volume centre and by that camera
turned 90°, 180° and 270° about the vertical axis (the generator's fixed poses). Keyframes are
α = 0 and 1; the three instants between are linear blends of the keyframes' triplanes
(`lim_ros.models.lim.blend`). Input modes:

- ``multiview``: the LRM on the four true views;
- ``monocular_direct``: the LRM on the first view alone;
- ``monocular_generated``: the LRM on the first view and the three views the generator makes
  from it (at the true views' cameras).

Reconstruction metrics are at the keyframes, interpolation metrics at the instants between,
both with the LRM evaluation's scoring (IoU, Chamfer-L1, F-score; PSNR on two novel views at
45° and 225°, never an input). ``s_per_keyframe`` is the median wall time of one keyframe
(generation included) on this machine.

The generator's own quality, per split: PSNR and SSIM of its views against the true renders
at every instant, next to two trivial baselines (the input view copied, an all-white image)
and, for a generator with a prior, the PSNR of its prior views alone (what diffusion adds),
and its temporal consistency: the mean frame-to-frame change of its views divided by the
true views' change, with the initial noise shared by every frame (as the engine runs it) and
with fresh noise per frame (1 is the truth's change; more is flicker).
"""

from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
import statistics
import time
from typing import Any

import imageio.v3 as iio
from lim_ros.bench.interp import FRACTIONS, METRICS
from lim_ros.bench.report import mean_of_known, report
from lim_ros.cameras import Cameras, orbit
from lim_ros.data.dataset import DataConfig, WorldDataset, WorldSample
from lim_ros.data.preview import grid
from lim_ros.eval.lrm_eval import ground_truth, LRMEvalConfig, score_field
from lim_ros.metrics import psnr, ssim
from lim_ros.models.lrm import blend, LRM, LRMOutput
from lim_ros.monocular.loading import PipelineGenerator
from lim_ros.monocular.views import with_generated
from lim_ros.render.sphere_tracer import render
from lim_ros.world.families import HELD_OUT_FAMILIES, make_object, SEEN_FAMILIES
import numpy as np
import torch

KEYFRAMES = (0, len(FRACTIONS) - 1)
MODES = ('multiview', 'monocular_direct', 'monocular_generated')
NOVEL_OFFSETS = (45.0, 225.0)  # degrees from the input camera: between the input views


@dataclass(frozen=True)
class MonocularBenchConfig:
    """The fixed sequences of ``bench monocular`` and how they are scored."""

    samples: int = 4  # sequences per split
    seed: int = 50_000
    gap: float = 1.0  # seconds between the keyframes
    score: LRMEvalConfig = field(
        default_factory=lambda: LRMEvalConfig(grid_resolution=48, surface_points=5000))


def sequences(cfg: MonocularBenchConfig, split: str, size: int,
              offsets_deg: tuple[float, ...]) -> list[WorldSample]:
    """Return the fixed orbit sequences of ``split`` ('seen' or 'held_out'), ``size`` pixels."""
    data = DataConfig(families=SEEN_FAMILIES if split == 'seen' else HELD_OUT_FAMILIES,
                      num_samples=cfg.samples, seed=cfg.seed + (split == 'held_out'),
                      num_views=1 + len(offsets_deg), image_size=size, cameras='orbit',
                      orbit_offsets=offsets_deg, num_times=len(FRACTIONS),
                      gap_range=(cfg.gap, cfg.gap), time_fractions=FRACTIONS,
                      num_surface_points=16, num_volume_points=0, num_near_points=0)
    dataset = WorldDataset(data)
    return [dataset[i] for i in range(cfg.samples)]


@dataclass
class Keyframer:
    """Each input mode's keyframe: the LRM's output from the views of one instant."""

    lrm: LRM
    generator: PipelineGenerator

    def __call__(self, mode: str, views: torch.Tensor, cameras: Cameras) -> LRMOutput:
        """Reconstruct one instant from its true ``views`` (1 + K, 3, H, W) in ``mode``."""
        device = next(self.lrm.parameters()).device
        if mode == 'monocular_direct':
            views, cameras = views[:1], cameras.select(slice(0, 1))
        elif mode == 'monocular_generated':
            views, cameras = with_generated(self.generator, views[0], cameras.select(slice(0, 1)))
        return self.lrm.reconstruct(views.to(device), cameras.to(device))


@torch.no_grad()
def score_sequence(keyframer: Keyframer, sample: WorldSample, cfg: MonocularBenchConfig,
                   seconds: dict[str, list[float]]) -> dict[str, dict[str, list[dict]]]:
    """Return {mode: {'keyframes' | 'between': [scores per instant]}}; append timings."""
    obj = make_object(sample.family, sample.object_seed)
    cameras = sample.cameras()
    novel = orbit(cameras.select(slice(0, 1)), NOVEL_OFFSETS)
    truths = [ground_truth(obj, t, novel, render(obj, novel, t).rgb, cfg.score)
              for t in sample.times.tolist()]
    scores = {}
    for mode in MODES:
        keyframes = []
        for i in KEYFRAMES:
            start = time.perf_counter()
            keyframes.append(keyframer(mode, sample.rgb[i], cameras))
            seconds[mode].append(time.perf_counter() - start)
        found: dict[str, list[dict]] = {'keyframes': [], 'between': []}
        for i, alpha in enumerate(FRACTIONS):
            out = blend(keyframes[0], keyframes[1], torch.tensor([alpha]))
            found['keyframes' if i in KEYFRAMES else 'between'].append(score_field(
                partial(keyframer.lrm.decode, out.planes), truths[i], cfg.score))
        scores[mode] = found
    return scores


@dataclass(frozen=True)
class GeneratedSet:
    """True and generated target views of N sequences at every instant."""

    inputs: torch.Tensor  # (N, T, 1, 3, H, W) the input views
    true: torch.Tensor  # (N, T, K, 3, H, W)
    shared: torch.Tensor  # (N, T, K, 3, H, W) generated, one initial noise for all frames
    fresh: torch.Tensor  # (N, T, K, 3, H, W) generated, new initial noise per frame
    prior: torch.Tensor | None  # (N, T, K, 3, H, W) the generator's prior views, or None


@torch.no_grad()
def generate_all(generator: PipelineGenerator, samples: list[WorldSample]) -> GeneratedSet:
    """Generate every instant's views of ``samples``, with shared and with fresh noise."""
    shared, fresh, prior = [], [], []
    for sample in samples:
        source = sample.cameras().select(slice(0, 1))
        generated = [generator.generate(sample.rgb[i, 0], source) for i in range(len(FRACTIONS))]
        shared.append(torch.stack([g.images.cpu() for g in generated]))
        fresh.append(torch.stack([
            replace(generator, seed=generator.seed + 1 + i).generate(
                sample.rgb[i, 0], source).images.cpu() for i in range(len(FRACTIONS))]))
        priors = [g.prior.cpu() for g in generated if g.prior is not None]
        if priors:  # a generator with a prior gives one with every view set
            prior.append(torch.stack(priors))
    return GeneratedSet(torch.stack([s.rgb[:, :1] for s in samples]),
                        torch.stack([s.rgb[:, 1:] for s in samples]), torch.stack(shared),
                        torch.stack(fresh), torch.stack(prior) if prior else None)


def generator_scores(views: GeneratedSet) -> dict[str, float]:
    """Return the generator's PSNR, SSIM, baselines and temporal consistency (module doc)."""
    def change(images: torch.Tensor) -> float:  # mean frame-to-frame change of (N, T, ...)
        return float((images[:, 1:] - images[:, :-1]).abs().mean())

    true = views.true
    prior = {} if views.prior is None else {'psnr_prior_alone': psnr(views.prior, true)}
    return {'psnr': psnr(views.shared, true),
            'ssim': ssim(views.shared.flatten(0, 2), true.flatten(0, 2)),
            'psnr_copy_input': psnr(views.inputs.expand_as(true), true),
            'psnr_white': psnr(torch.ones_like(true), true), **prior,
            'temporal_change_shared_noise': change(views.shared) / change(true),
            'temporal_change_fresh_noise': change(views.fresh) / change(true)}


def run(lrm: LRM, generator: PipelineGenerator, cfg: MonocularBenchConfig, out: Path,
        figures: Path | None = None) -> tuple[list[dict], list[dict]]:
    """
    Benchmark the input modes and the generator; print both tables, write JSON, return them.

    With ``figures``, also write ``<split>_generated.png`` there: a row per sequence at its
    first instant, columns the input view, the K true views, then the K generated ones.
    """
    keyframer = Keyframer(lrm, generator)
    seconds: dict[str, list[float]] = {mode: [] for mode in MODES}
    rows, generator_rows = [], []
    for split in ('seen', 'held_out'):
        samples = sequences(cfg, split, lrm.config.image_size, generator.layout.offsets_deg)
        results = [score_sequence(keyframer, s, cfg, seconds) for s in samples]
        for mode in MODES:
            row: dict[str, Any] = {'split': split, 'input': mode}
            for part in ('keyframes', 'between'):
                values = np.array([[[a[k] for k in METRICS] for a in r[mode][part]]
                                   for r in results])
                means = mean_of_known(values.reshape(-1, len(METRICS)), axis=0)
                prefix = 'recon' if part == 'keyframes' else 'interp'
                row.update({f'{prefix}_{k}': float(v) for k, v in zip(METRICS, means)})
            rows.append(row)
        views = generate_all(generator, samples)
        generator_rows.append({'split': split, **generator_scores(views)})
        if figures is not None:
            figures.mkdir(parents=True, exist_ok=True)
            tiles = torch.cat([views.inputs, views.true, views.shared], dim=2)[:, 0]
            iio.imwrite(figures / f'{split}_generated.png', grid(tiles))
    for row in rows:
        row['s_per_keyframe'] = statistics.median(seconds[row['input']])
    report(f'bench monocular: {cfg.samples} sequences per split, keyframes {cfg.gap} s apart, '
           f'grid {cfg.score.grid_resolution}^3', rows, out)
    report(f'bench monocular: generator ({len(generator.layout.offsets_deg)} views) vs true '
           'renders', generator_rows, out.with_name(out.stem + '_generator.json'))
    return rows, generator_rows
