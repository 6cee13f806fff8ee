"""Tests of ``bench interp``: every method scored in every group, with the shipped LRM."""

import json
from pathlib import Path
import warnings

import imageio.v3 as iio
from lim_ros.bench.interp import FRACTIONS, gap_closed, InterpBenchConfig, run
from lim_ros.eval.lrm_eval import LRMEvalConfig
from lim_ros.models.lim import LIM, LIMConfig
from lim_ros.models.lrm import load_lrm
import numpy as np
import pytest

SHIPPED_LRM = Path(__file__).resolve().parents[2] / 'models' / 'lrm_tiny.safetensors'


def test_every_method_in_every_group(tmp_path):
    lrm = load_lrm(SHIPPED_LRM)
    cfg = InterpBenchConfig(samples=1, score=LRMEvalConfig(grid_resolution=16,
                                                           surface_points=300))
    out = tmp_path / 'interp.json'
    rows = run(lrm, {'lim': LIM(LIMConfig.for_lrm(lrm.config, depth=1)).eval()}, cfg, out,
               figures=tmp_path)
    methods = ('nearest', 'linear', 'optical_flow', 'triplane_flow', 'lim', 'pose_chord',
               'pose_spline', 'oracle')
    assert {(r['split'], r['motion'], r['method']) for r in rows} == {
        (s, m, x) for s in ('seen', 'held_out') for m in ('small', 'medium', 'large')
        for x in methods}
    for row in rows:
        assert 0.0 <= row['iou'] <= 1.0 and row['ms'] > 0.0 and row['travel'] > 0.0
        group = {r['method']: r for r in rows
                 if (r['split'], r['motion']) == (row['split'], row['motion'])}
        # an untrained LIM is linear interpolation
        assert group['lim']['iou'] == pytest.approx(group['linear']['iou'])
        assert group['linear']['gap_closed'] == 0.0
        assert group['oracle']['gap_closed'] in (1.0, pytest.approx(1.0))
    for split in ('seen', 'held_out'):  # the same objects, keyframes 4 times further apart
        travel = {r['motion']: r['travel'] for r in rows if r['split'] == split}
        assert travel['large'] > 1.5 * travel['small']
        large = {r['method']: r for r in rows if (r['split'], r['motion']) == (split, 'large')}
        # over 1 s the object moves between the keyframes in ways neither of them shows
        assert large['oracle']['iou'] - large['pose_chord']['iou'] > 0.0
    per_alpha = json.loads(out.with_name('interp_alpha.json').read_text())
    assert {r['alpha'] for r in per_alpha} == set(FRACTIONS[1:-1])
    # one sequence per group: no jackknife error (NaN, which equals nothing), so compare as text
    assert json.dumps(json.loads(out.read_text())['rows']) == json.dumps(rows)
    assert all(np.isnan(r['gap_closed_se']) for r in rows)
    picture = iio.imread(tmp_path / 'held_out_large.png')  # 1 sequence, truth + 8 methods
    assert picture.shape == (2 + 64 + 2, 2 + 9 * (64 + 2), 3)


def test_gap_closed_and_its_jackknife_error():
    # linear scores 0 and the oracle 1 on IoU, Chamfer and PSNR, so a method's gap closed is
    # its mean score and the jackknife error that of a mean: sample deviation / sqrt(S)
    scores = np.array([0.2, 0.5, 0.8, 0.1])
    per_sequence = {'linear': np.zeros((4, 4)), 'oracle': np.ones((4, 4)),
                    'method': np.repeat(scores[:, None], 4, axis=1)}
    found = gap_closed(per_sequence)
    assert found['linear'][0] == 0.0 and found['oracle'][0] == 1.0
    value, error = found['method']
    assert value == pytest.approx(scores.mean())
    assert error == pytest.approx(scores.std(ddof=1) / 2.0)
    with warnings.catch_warnings():  # one sequence: no error to estimate, and no warning
        warnings.simplefilter('error')
        one = gap_closed({k: v[:1] for k, v in per_sequence.items()})['method']
    assert one[0] == pytest.approx(0.2) and np.isnan(one[1])
