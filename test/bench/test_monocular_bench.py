"""Tests of ``bench monocular``: every input mode on the same sequences, and the generator."""

import json
from pathlib import Path

import imageio.v3 as iio
from lim_ros.bench.monocular import MODES, MonocularBenchConfig, run
from lim_ros.eval.lrm_eval import LRMEvalConfig
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.lrm import load_lrm
from lim_ros.models.multiview_diffusion import MultiViewDiffusion
from lim_ros.monocular import load_generator
from tiny_models import TINY_MVDIFF
import torch

SHIPPED_LRM = Path(__file__).resolve().parents[2] / 'models' / 'lrm_tiny.safetensors'


def test_every_input_mode_on_both_splits(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / 'mvdiff.safetensors'
    save_checkpoint(path, MultiViewDiffusion(TINY_MVDIFF), TINY_MVDIFF, kind='mvdiff')
    cfg = MonocularBenchConfig(samples=1, score=LRMEvalConfig(grid_resolution=16,
                                                              surface_points=300))
    out = tmp_path / 'monocular.json'
    rows, generator_rows = run(load_lrm(SHIPPED_LRM), load_generator(path), cfg, out,
                               figures=tmp_path)
    assert [(r['split'], r['input']) for r in rows] == [
        (s, m) for s in ('seen', 'held_out') for m in MODES]
    for row in rows:
        assert 0.0 <= row['recon_iou'] <= 1.0 and 0.0 <= row['interp_iou'] <= 1.0
        assert row['s_per_keyframe'] > 0.0
    timing = {r['input']: r['s_per_keyframe'] for r in rows}
    assert timing['monocular_generated'] > timing['monocular_direct']  # generation costs
    assert [r['split'] for r in generator_rows] == ['seen', 'held_out']
    for row in generator_rows:
        assert 0.0 < row['psnr'] < 40.0 and -1.0 <= row['ssim'] <= 1.0
        # an untrained generator's views come from the noise: fresh noise per frame flickers
        assert row['temporal_change_shared_noise'] < row['temporal_change_fresh_noise']
    assert json.loads(out.read_text())['rows'] == rows
    assert json.loads(out.with_name('monocular_generator.json').read_text())['rows'] == \
        generator_rows
    picture = iio.imread(tmp_path / 'held_out_generated.png')  # 1 sequence: input, 3 + 3
    assert picture.shape == (64 + 4, 7 * 66 + 2, 3)
