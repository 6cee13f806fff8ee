"""
``lim-ros bench interp``: reconstructions between two keyframes, by interpolation method.

Every sequence is one object of the synthetic world seen by a random static rig at five
instants t_0 + α·gap, α ∈ {0, 0.25, 0.5, 0.75, 1}. The LRM reconstructs keyframes α = 0 and
α = 1 from the first ``input_views`` views; each method then gives the triplane at the three
instants between, which is scored against the exact ground truth there with the LRM
evaluation's metrics (IoU, Chamfer-L1, F-score, PSNR on the views not given as input):

- ``nearest``: the nearer keyframe's triplane;
- ``linear``: the two triplanes blended, (1 - α) P_0 + α P_1;
- ``optical_flow``: the keyframes' input views interpolated in image space with optical flow
  (`FlowInterpolator`), then fed to the LRM;
- ``triplane_flow``: the keyframes' triplanes warped along the flow found by matching their
  planes (`TriplaneFlow`, no learning);
- ``lim`` (and ``lim_no_causal``, the ablation without the causal consistency loss): LIM;
  with ``--paths``, also ``lim_gather`` and ``lim_correction``: LIM with one of its two paths
  (`one_path`);
- ``oracle``: the LRM on the true input views at the instant, which LIM approximates;
- ``pose_chord``: a reference that reads the world's ground truth, not a method: the object
  posed exactly as at both keyframes and moved at constant speed between them
  (`DynamicObject.chord_motion`), rendered from the input cameras and fed to the LRM. The
  share of the linear → oracle gap it closes is the share two keyframes determine: the rest
  is motion that happens between them (the world's joints swing at up to 0.8 Hz).
- ``pose_spline``: the same reference with four keyframes: the object posed exactly as at
  t_0 - gap, t_0, t_0 + gap and t_0 + 2 gap and moved along the Catmull-Rom cubic through those
  poses (`DynamicObject.spline_motion`): the share an interpolator that also read the keyframe
  before the gap and the one after it could at most hope to close.

Sequences are split by family (seen in training or held out) and by motion: keyframes
``gaps`` seconds apart (small, medium, large). ``motion`` is the mean distance surface points
travel between the keyframes (volume units: the volume is 2 wide). Milliseconds are per
interpolated triplane on this machine, median over all calls. ``gap_closed`` is
(method - linear) / (oracle - linear) of the mean IoU, Chamfer-L1 and PSNR over the three
instants: 1 means as good as the oracle, 0 no better than linear interpolation;
``gap_closed_se`` its jackknife standard error over the group's sequences (`gap_closed`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
import json
from pathlib import Path
import statistics
import time
from typing import Any

import imageio.v3 as iio
from lim_ros.bench.report import mean_of_known, report
from lim_ros.cameras import Cameras
from lim_ros.data.dataset import DataConfig, WorldDataset, WorldSample
from lim_ros.data.preview import grid
from lim_ros.eval.lrm_eval import ground_truth, LRMEvalConfig, score_field
from lim_ros.interp.optical_flow import FlowInterpolator
from lim_ros.interp.triplane_flow import TriplaneFlow
from lim_ros.models.lim import LIM
from lim_ros.models.lrm import blend, LRM, LRMOutput
from lim_ros.render.sphere_tracer import render
from lim_ros.world.dynamic_object import DynamicObject
from lim_ros.world.families import HELD_OUT_FAMILIES, make_object, SEEN_FAMILIES
import numpy as np
import torch
from tqdm import tqdm

FRACTIONS = (0.0, 0.25, 0.5, 0.75, 1.0)
METRICS = ('iou', 'chamfer_l1', 'f_score', 'psnr')
GAP_METRICS = (0, 1, 3)  # indices in METRICS of the gap closed's metrics: IoU, Chamfer, PSNR


@dataclass(frozen=True)
class InterpBenchConfig:
    """The fixed sequences of ``bench interp`` and how they are scored."""

    samples: int = 12  # sequences per (split, motion) group
    seed: int = 40_000
    gaps: tuple[tuple[str, float], ...] = (('small', 0.25), ('medium', 0.5), ('large', 1.0))
    input_views: int = 4
    novel_views: int = 2
    score: LRMEvalConfig = field(
        default_factory=lambda: LRMEvalConfig(grid_resolution=48, surface_points=5000))


@dataclass(frozen=True)
class Sequence:
    """One benchmark sequence: its keyframes and the input views at every instant."""

    sample: WorldSample  # unbatched, instants at FRACTIONS
    world: DynamicObject  # the sample's object, exact at any time
    inputs: Cameras
    source: LRMOutput  # the LRM at α = 0, batch of 1
    target: LRMOutput  # the LRM at α = 1

    def views(self, instant: int) -> torch.Tensor:
        """Return the input images (V_in, 3, H, W) at ``instant``."""
        return self.sample.rgb[instant, :len(self.inputs)]


Method = Callable[[Sequence, int], LRMOutput]  # (sequence, instant index) → triplane at it


def methods(lrm: LRM, lims: dict[str, LIM]) -> dict[str, Method]:
    """Return the benchmark's methods; ``lims`` maps names (``lim``, …) to LIM models."""
    device = next(lrm.parameters()).device
    flow = FlowInterpolator()
    planes_flow = TriplaneFlow()

    def alpha(instant: int) -> torch.Tensor:
        return torch.tensor([FRACTIONS[instant]], device=device)

    def oracle(seq: Sequence, i: int) -> LRMOutput:
        return lrm.reconstruct(seq.views(i).to(device), seq.inputs.to(device))

    def posed(motion: Callable[[DynamicObject, float, float], DynamicObject]) -> Method:
        """Return the LRM on views of the world moved by ``motion(world, t_0, t_1)``."""
        def reference(seq: Sequence, i: int) -> LRMOutput:
            times = seq.sample.times.tolist()
            views = render(motion(seq.world, times[0], times[-1]), seq.inputs, times[i]).rgb
            return lrm.reconstruct(views.to(device), seq.inputs.to(device))
        return reference

    def interpolated(lim: LIM, seq: Sequence, i: int) -> LRMOutput:
        return lim(seq.source, seq.target, alpha(i))

    def optical_flow(seq: Sequence, i: int) -> LRMOutput:
        views = flow(seq.views(0), seq.views(-1), FRACTIONS[i])
        return lrm.reconstruct(views.to(device), seq.inputs.to(device))

    found: dict[str, Method] = {
        'nearest': lambda seq, i: seq.source if FRACTIONS[i] < 0.5 else seq.target,
        'linear': lambda seq, i: blend(seq.source, seq.target, alpha(i)),
        'optical_flow': optical_flow,
        'triplane_flow': lambda seq, i: planes_flow(seq.source, seq.target, FRACTIONS[i]),
    }
    for name, lim in lims.items():
        found[name] = partial(interpolated, lim)
    found['pose_chord'] = posed(DynamicObject.chord_motion)
    found['pose_spline'] = posed(DynamicObject.spline_motion)
    found['oracle'] = oracle
    return found


def sequences(lrm: LRM, cfg: InterpBenchConfig, split: str, gap: float) -> list[Sequence]:
    """Return the fixed sequences of ``split`` ('seen' or 'held_out') with keyframe ``gap``."""
    data = DataConfig(families=SEEN_FAMILIES if split == 'seen' else HELD_OUT_FAMILIES,
                      num_samples=cfg.samples, seed=cfg.seed + (split == 'held_out'),
                      num_views=cfg.input_views + cfg.novel_views,
                      image_size=lrm.config.image_size, num_times=len(FRACTIONS),
                      gap_range=(gap, gap), time_fractions=FRACTIONS, num_surface_points=1024,
                      num_volume_points=16, num_near_points=16)
    device = next(lrm.parameters()).device
    found = []
    for sample in (WorldDataset(data)[i] for i in range(cfg.samples)):
        inputs = sample.cameras().select(slice(cfg.input_views))
        with torch.no_grad():
            keyframes = [lrm.reconstruct(sample.rgb[i, :cfg.input_views].to(device),
                                         inputs.to(device)) for i in (0, -1)]
        found.append(Sequence(sample, make_object(sample.family, sample.object_seed), inputs,
                              *keyframes))
    return found


def motion(sample: WorldSample) -> float:
    """Return the mean distance surface points travel from the first to the last instant."""
    return float((sample.surface_points[-1] - sample.surface_canonical[-1]).norm(dim=-1).mean())


@dataclass(frozen=True)
class SequenceResult:
    """Each method's scores at the instants between the keyframes, seconds and renders."""

    scores: dict[str, list[dict]]
    seconds: dict[str, list[float]]
    middle: dict[str, torch.Tensor]  # renders (V_novel, 3, H, W) at α = 0.5; 'truth' too


@torch.no_grad()
def score_sequence(lrm: LRM, seq: Sequence, found: dict[str, Method],
                   cfg: InterpBenchConfig) -> SequenceResult:
    """Score every method of ``found`` at the instants between the keyframes of ``seq``."""
    v = cfg.input_views
    novel = seq.sample.cameras().select(slice(v, None))
    scores: dict[str, list[dict]] = {name: [] for name in found}
    seconds: dict[str, list[float]] = {name: [] for name in found}
    middle = {'truth': seq.sample.rgb[FRACTIONS.index(0.5), v:]}
    for i in range(1, len(FRACTIONS) - 1):
        t = float(seq.sample.times[i])
        truth = ground_truth(seq.world, t, novel, seq.sample.rgb[i, v:], cfg.score)
        for name, method in found.items():
            start = time.perf_counter()
            out = method(seq, i)
            seconds[name].append(time.perf_counter() - start)
            renders: list[torch.Tensor] = []
            scores[name].append(score_field(partial(lrm.decode, out.planes), truth, cfg.score,
                                            renders))
            if FRACTIONS[i] == 0.5:
                middle[name] = renders[0]
    return SequenceResult(scores, seconds, middle)


def gap_closed(per_sequence: dict[str, np.ndarray]) -> dict[str, tuple[float, float]]:
    """
    Return each method's gap closed and its jackknife standard error over the sequences.

    ``per_sequence`` maps every method (``linear`` and ``oracle`` among them) to its scores
    (S, len(METRICS)) on S sequences, each averaged over the instants; the gap closed is the
    module docstring's, of the means over the sequences. The error is the spread of the same
    figure with one sequence left out, (S - 1)/S · Σ (g_i - ḡ)², square-rooted: how much the
    figure owes to the particular sequences (NaN for one sequence).
    """
    def closed(means: dict[str, np.ndarray], name: str) -> float:
        linear, oracle = means['linear'], means['oracle']
        shares = [(means[name][k] - linear[k]) / (oracle[k] - linear[k])
                  for k in GAP_METRICS if oracle[k] != linear[k]]
        return float(np.mean(shares)) if shares else float('nan')

    count = len(per_sequence['linear'])
    means = {m: mean_of_known(v, axis=0) for m, v in per_sequence.items()}
    left_out_means = [{m: mean_of_known(np.delete(v, i, axis=0), axis=0)
                       for m, v in per_sequence.items()} for i in range(count)]
    found = {}
    for name in per_sequence:
        left_out = (np.array([closed(m, name) for m in left_out_means]) if count > 1
                    else np.array([np.nan]))
        error = float(np.sqrt((count - 1) / count * np.sum((left_out - left_out.mean()) ** 2)))
        found[name] = (closed(means, name), error)
    return found


def run(lrm: LRM, lims: dict[str, LIM], cfg: InterpBenchConfig, out: Path,
        figures: Path | None = None, figure_sequences: int = 3) -> list[dict]:
    """
    Benchmark every method on every group; print the table, write JSON, return the rows.

    With ``figures``, also write ``<split>_large.png`` there: for the first
    ``figure_sequences`` large-motion sequences, a novel view at α = 0.5, columns ground truth
    then every method.
    """
    found = methods(lrm, lims)
    rows: list[dict[str, Any]] = []
    per_alpha: list[dict[str, Any]] = []
    seconds: dict[str, list[float]] = {name: [] for name in found}
    for split in ('seen', 'held_out'):
        for label, gap in cfg.gaps:
            seqs = sequences(lrm, cfg, split, gap)
            results = [score_sequence(lrm, s, found, cfg) for s in tqdm(
                seqs, desc=f'bench interp {split} {label}', unit='sequence')]
            if figures is not None and label == 'large':
                figures.mkdir(parents=True, exist_ok=True)
                tiles = [torch.stack([r.middle[k][0] for k in ('truth', *found)])
                         for r in results[:figure_sequences]]
                iio.imwrite(figures / f'{split}_large.png', grid(torch.stack(tiles)))
            per_sequence: dict[str, np.ndarray] = {}
            group: list[dict[str, Any]] = []
            for name in found:
                for r in results:
                    seconds[name] += r.seconds[name]
                by_alpha = np.array([[[a[k] for k in METRICS] for a in r.scores[name]]
                                     for r in results])  # (sequence, instant, metric)
                per_sequence[name] = mean_of_known(by_alpha, axis=1)
                means = mean_of_known(by_alpha, axis=0)
                for alpha, values in zip(FRACTIONS[1:-1], means):
                    per_alpha.append({'split': split, 'motion': label, 'method': name,
                                      'alpha': alpha, **dict(zip(METRICS, map(float, values)))})
                group.append({'split': split, 'motion': label,
                              'travel': float(np.mean([motion(s.sample) for s in seqs])),
                              'method': name,
                              **dict(zip(METRICS, map(float, means.mean(axis=0)))),
                              'iou_0.5': float(means[1, 0])})
            closed = gap_closed(per_sequence)
            for row in group:
                row['gap_closed'], row['gap_closed_se'] = closed[row['method']]
            rows += group
    for row in rows:
        row['ms'] = 1e3 * statistics.median(seconds[row['method']])
    report(f'bench interp: {cfg.samples} sequences per group, alpha {FRACTIONS[1:-1]}, '
           f'metrics averaged over alpha, grid {cfg.score.grid_resolution}^3', rows, out)
    out.with_name(out.stem + '_alpha.json').write_text(json.dumps(per_alpha, indent=2) + '\n')
    return rows
