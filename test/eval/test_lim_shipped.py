"""The shipped LIM re-checked on a fixed large-motion set, against linear interpolation."""

from pathlib import Path

from lim_ros.bench.interp import InterpBenchConfig, methods, score_sequence, sequences
from lim_ros.eval.lrm_eval import LRMEvalConfig
from lim_ros.models.lim import load_lim
from lim_ros.models.lrm import load_lrm
import numpy as np

MODELS = Path(__file__).resolve().parents[2] / 'models'


def half_way_iou(split: str) -> dict[str, float]:
    """Return linear's and LIM's mean IoU at α = 0.5 on 3 large-motion sequences of a split."""
    lrm = load_lrm(MODELS / 'lrm_tiny.safetensors')
    lim = load_lim(MODELS / 'lim_tiny.safetensors')
    cfg = InterpBenchConfig(samples=3, score=LRMEvalConfig(grid_resolution=32,
                                                           surface_points=2000))
    found = {k: v for k, v in methods(lrm, {'lim': lim}).items() if k in ('linear', 'lim')}
    scores = [score_sequence(lrm, seq, found, cfg).scores
              for seq in sequences(lrm, cfg, split, cfg.large_gap)]
    return {name: float(np.mean([s[name][1]['iou'] for s in scores])) for name in found}


def test_shipped_lim_beats_linear_half_way_on_seen_families():
    # measured when the checkpoint was made: LIM 0.554, linear 0.526
    iou = half_way_iou('seen')
    assert iou['lim'] >= 0.54 and iou['lim'] >= iou['linear'] + 0.01, iou


def test_shipped_lim_stays_near_linear_on_held_out_families():
    # measured when the checkpoint was made: LIM 0.288, linear 0.302. The CPU-trained LIM does
    # not beat linear interpolation on families it never saw (see models/lim_tiny.md)
    iou = half_way_iou('held_out')
    assert iou['lim'] >= 0.27 and iou['lim'] >= iou['linear'] - 0.03, iou
