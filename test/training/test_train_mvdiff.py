"""Tests of multi-view diffusion training: a real tiny run, resuming, cache checks, orders."""

import dataclasses
import json
from pathlib import Path

from lim_ros.data.cache import write_cache
from lim_ros.data.dataset import DataConfig
from lim_ros.errors import ConfigError
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.lrm import LRM
from lim_ros.models.multiview_diffusion import load_multiview_diffusion
from lim_ros.training.train_mvdiff import MVDiffTrainConfig, train, view_orders
import pytest
from safetensors.torch import load_file
from tiny_models import TINY_LRM, TINY_MVDIFF
import torch

_POINTS = {'num_surface_points': 16, 'num_volume_points': 0, 'num_near_points': 0}


@pytest.fixture(scope='module')
def cache(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('orbit_cache')
    write_cache(DataConfig(num_samples=4, image_size=32, num_views=4, num_times=2,
                           cameras='orbit', **_POINTS), out, shard_size=2, num_workers=0)
    return out


def _config(cache: Path, out: Path, steps: int) -> MVDiffTrainConfig:
    return MVDiffTrainConfig(model=TINY_MVDIFF, data_dir=str(cache), out_dir=str(out),
                             steps=steps, batch_size=3, warmup_steps=1, log_every=1,
                             checkpoint_every=2, val_samples=1, val_steps=2)


def test_training_writes_checkpoints_and_resumes(cache, tmp_path):
    summary = train(_config(cache, tmp_path, 2))
    assert summary['best']['step'] == 2 and summary['best']['seen'] > 0
    model = load_multiview_diffusion(tmp_path / 'best.safetensors')
    assert model.config == TINY_MVDIFF
    train(_config(cache, tmp_path, 4))  # resumes at step 2
    records = [json.loads(line) for line in (tmp_path / 'log.jsonl').read_text().splitlines()]
    assert [r['step'] for r in records] == [1, 2, 3, 4]
    assert all(r['denoise'] > 0 for r in records)
    assert 'val_psnr_held_out' in records[1] and 'val_iou_seen' not in records[1]


def test_resumed_run_equals_uninterrupted_run(cache, tmp_path):
    train(_config(cache, tmp_path / 'a', 2))
    train(_config(cache, tmp_path / 'a', 3))
    train(_config(cache, tmp_path / 'b', 3))
    a = load_file(str(tmp_path / 'a' / 'last.safetensors'))
    b = load_file(str(tmp_path / 'b' / 'last.safetensors'))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_rejects_a_cache_without_orbit_cameras(tmp_path):
    random_views = tmp_path / 'random'
    write_cache(DataConfig(num_samples=1, image_size=32, num_views=4, **_POINTS), random_views,
                shard_size=1, num_workers=0)
    with pytest.raises(ConfigError, match='not view 0 turned by the offsets'):
        train(_config(random_views, tmp_path / 'run', 1))
    other = dataclasses.replace(TINY_MVDIFF, offsets_deg=(120.0, 240.0))
    cfg = dataclasses.replace(_config(random_views, tmp_path / 'run', 1), model=other)
    with pytest.raises(ConfigError, match='expected 1 \\+ 2 views per sample, found 4'):
        train(cfg)


def test_a_prior_run_renders_the_prior_views_once_and_trains_on_them(cache, tmp_path):
    torch.manual_seed(0)
    save_checkpoint(tmp_path / 'lrm.safetensors', LRM(TINY_LRM), TINY_LRM, kind='lrm')
    model = dataclasses.replace(TINY_MVDIFF, prior='lrm_render',
                                prior_lrm=str(tmp_path / 'lrm.safetensors'), prior_grid=16)
    cfg = dataclasses.replace(_config(cache, tmp_path / 'run', 2), model=model)
    train(cfg)
    priors = cache / 'prior_lrm_16.safetensors'
    views = load_file(str(priors))['prior'].clone()  # the file is rewritten below
    assert views.shape == (4, 2, 3, 3, 32, 32) and views.dtype == torch.float16
    assert 0.0 <= float(views.min()) and float(views.max()) <= 1.0
    written = priors.stat().st_mtime_ns
    summary = train(dataclasses.replace(cfg, steps=4))  # resumes; the priors are reused
    assert priors.stat().st_mtime_ns == written
    assert summary['best']['seen'] > 0
    priors.write_bytes(b'not a safetensors file')  # derived data: rendered again
    summary = train(dataclasses.replace(cfg, steps=5))
    assert torch.equal(load_file(str(priors))['prior'], views)
    chosen = json.loads((tmp_path / 'run' / 'strength.json').read_text())
    assert [r['strength'] for r in chosen['val_psnr']] == list(cfg.strengths)
    assert summary['strength'] == chosen and chosen['sample_strength'] in cfg.strengths
    best = load_multiview_diffusion(tmp_path / 'run' / 'best.safetensors').config
    assert best == dataclasses.replace(model, sample_strength=chosen['sample_strength'])


def test_view_orders_follow_the_offsets():
    orders, mirror = view_orders((90.0, 180.0, 270.0), augment=True)
    assert orders.tolist() == [[0, 1, 2, 3], [1, 2, 3, 0], [2, 3, 0, 1], [3, 0, 1, 2]]
    assert mirror
    orders, mirror = view_orders((30.0, 90.0), augment=True)  # neither cyclic nor symmetric
    assert orders.tolist() == [[0, 1, 2]] and not mirror
    orders, mirror = view_orders((90.0, 180.0, 270.0), augment=False)
    assert orders.tolist() == [[0, 1, 2, 3]] and not mirror
    orders, mirror = view_orders((90.0, 180.0, 270.0), augment=True, any_input=False)
    assert orders.tolist() == [[0, 1, 2, 3]] and mirror  # a prior is of view 0 only
