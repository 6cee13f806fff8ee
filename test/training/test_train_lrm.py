"""Tests of LRM training: a real (tiny) run, resuming, and reproducibility from the seed."""

import dataclasses
import json
from pathlib import Path

from lim_ros.data.cache import CachedDataset, write_cache
from lim_ros.data.dataset import DataConfig
from lim_ros.errors import CheckpointError
from lim_ros.models.lrm import load_lrm
from lim_ros.training.log_summary import summarise
from lim_ros.training.loop import learning_rate
from lim_ros.training.train_lrm import LRMTrainConfig, train
import pytest
from safetensors.torch import load_file
from tiny_models import TINY_LRM
import torch
from training.init_checkpoint import check_init_checkpoint


@pytest.fixture(scope='module')
def cache(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp('cache')
    write_cache(DataConfig(num_samples=6, image_size=32, num_views=3, num_surface_points=128,
                           num_volume_points=64, num_near_points=64), out, shard_size=3,
                num_workers=0)
    return out


def _config(cache: Path, out: Path, steps: int) -> LRMTrainConfig:
    return LRMTrainConfig(model=TINY_LRM, data_dir=str(cache), out_dir=str(out), steps=steps,
                          batch_size=2, warmup_steps=2, max_views=2, query_points=64,
                          surface_points=32, render_rays=16, render_samples=8, log_every=1,
                          checkpoint_every=2, val_samples=1)


def test_cache_round_trip(cache):
    data = CachedDataset(cache)
    assert len(data) == 6
    sample = data[4]
    assert sample.rgb.shape == (1, 3, 3, 32, 32) and sample.rgb.dtype == torch.float32
    with pytest.raises(CheckpointError, match='no shard'):
        CachedDataset(cache / 'missing')


def test_training_writes_checkpoints_and_resumes(cache, tmp_path):
    summary = train(_config(cache, tmp_path, 3))
    assert summary['steps'] == 3
    for name in ('best.safetensors', 'last.safetensors', 'log.jsonl', 'summary.json'):
        assert (tmp_path / name).exists()
    model = load_lrm(tmp_path / 'best.safetensors')
    assert model.config == TINY_LRM
    train(_config(cache, tmp_path, 5))  # resumes at step 3
    records = [json.loads(line) for line in (tmp_path / 'log.jsonl').read_text().splitlines()]
    assert [r['step'] for r in records] == [1, 2, 3, 4, 5]
    assert all(r['loss'] > 0 for r in records)


def test_same_seed_same_weights(cache, tmp_path):
    train(_config(cache, tmp_path / 'a', 2))
    train(_config(cache, tmp_path / 'b', 2))
    a = load_file(str(tmp_path / 'a' / 'last.safetensors'))
    b = load_file(str(tmp_path / 'b' / 'last.safetensors'))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_a_run_can_start_from_a_trained_checkpoint(cache, tmp_path):
    check_init_checkpoint(train, lambda out: _config(cache, out, 2), load_lrm,
                          dataclasses.replace(TINY_LRM, decoder_layers=3), tmp_path)


def test_learning_rate_warms_up_then_decays():
    cfg = LRMTrainConfig(steps=100, warmup_steps=10, lr=1.0)
    assert learning_rate(cfg, 0) == pytest.approx(0.1)
    assert learning_rate(cfg, 10) == pytest.approx(1.0)
    assert learning_rate(cfg, 99) == pytest.approx(0.1, abs=1e-3)


def test_log_summary_table(cache, tmp_path):
    train(_config(cache, tmp_path, 4))
    table = summarise(tmp_path / 'log.jsonl', every=2)
    rows = table.strip().splitlines()
    assert rows[0].startswith('| step |') and len(rows) == 2 + 2  # header, rule, steps 2 and 4
    assert rows[-1].startswith('| 4 |')
    with pytest.raises(CheckpointError, match='no training log'):
        summarise(tmp_path / 'missing.jsonl')


def test_checkpoints_do_not_wait_for_log_steps(cache, tmp_path):
    cfg = _config(cache, tmp_path, 3)
    train(dataclasses.replace(cfg, log_every=5, checkpoint_every=2))
    records = [json.loads(line) for line in (tmp_path / 'log.jsonl').read_text().splitlines()]
    assert [r['step'] for r in records] == [2, 3]  # step 2 is no multiple of log_every
    assert 'val_iou_seen' in records[0]
