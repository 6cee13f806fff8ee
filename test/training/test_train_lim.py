"""Tests of LIM training: loss terms, the causal consistency pass, a real tiny run, resuming."""

import dataclasses
import json
from pathlib import Path

from lim_ros.data.cache import CachedDataset, write_cache
from lim_ros.data.dataset import DataConfig
from lim_ros.errors import ConfigError
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.lim import LIM, load_lim
from lim_ros.models.lrm import LRM
from lim_ros.training.batches import stack_samples
from lim_ros.training.keyframe_set import KeyframeSet
from lim_ros.training.log_summary import summarise
from lim_ros.training.train_lim import (
    lim_terms,
    LIMLossWeights,
    LIMTrainConfig,
    train,
    triplets,
    weighted_total,
)
import pytest
from tiny_models import TINY_LIM, TINY_LRM
import torch
from training.init_checkpoint import check_init_checkpoint


@pytest.fixture(scope='module')
def setup(tmp_path_factory) -> tuple[Path, Path]:
    """Return a cache of 4-instant sequences and a (random) tiny LRM checkpoint."""
    root = tmp_path_factory.mktemp('lim')
    torch.manual_seed(0)
    lrm_path = root / 'lrm.safetensors'
    save_checkpoint(lrm_path, LRM(TINY_LRM), TINY_LRM, kind='lrm')
    write_cache(DataConfig(num_samples=4, image_size=32, num_views=3, num_times=4,
                           gap_range=(0.2, 1.0), num_surface_points=128, num_volume_points=64,
                           num_near_points=64), root / 'cache', shard_size=2, num_workers=0)
    return root / 'cache', lrm_path


def _config(setup, out: Path, steps: int, causal: float = 1.0) -> LIMTrainConfig:
    cache, lrm = setup
    return LIMTrainConfig(model=TINY_LIM, losses=LIMLossWeights(causal=causal),
                          lrm_checkpoint=str(lrm), data_dir=str(cache), out_dir=str(out),
                          input_views=2, steps=steps, batch_size=2, warmup_steps=2,
                          query_points=32, surface_points=16, render_rays=8,
                          render_samples=8, log_every=1, checkpoint_every=2, val_samples=1)


def test_triplets_cover_every_middle_instant():
    assert triplets(4) == [(0, 2, 1), (0, 3, 1), (0, 3, 2), (1, 3, 2)]
    with pytest.raises(ConfigError, match='at least 3 instants'):
        triplets(2)


def test_keyframe_set_holds_the_lrm_outputs(setup):
    cache, _ = setup
    data = CachedDataset(cache)
    lrm = LRM(TINY_LRM).eval()
    keyframes = KeyframeSet.compute(lrm, data.columns['rgb'], data.columns['K'],
                                    data.columns['world_T_cam'], 2, torch.device('cpu'))
    n = TINY_LRM.plane_resolution
    assert keyframes.planes.shape == (4, 4, 3, TINY_LRM.plane_channels, n, n)
    sample = data[1]
    with torch.no_grad():
        direct = lrm.reconstruct(sample.rgb[2, :2], sample.cameras().select(slice(2)))
    stored = keyframes.at(torch.tensor([1]), 2, torch.device('cpu'))
    assert torch.allclose(stored.planes, direct.planes, atol=2e-2)  # float16 storage


def test_causal_pass_agrees_for_linear_interpolation(setup):
    # an untrained LIM is linear interpolation, which is causally consistent: going to α_r
    # first and on from there lands on the same triplane, so both passes' terms are equal
    cache, _ = setup
    data = CachedDataset(cache)
    lrm = LRM(TINY_LRM).eval().requires_grad_(False)
    keyframes = KeyframeSet.compute(lrm, data.columns['rgb'], data.columns['K'],
                                    data.columns['world_T_cam'], 2, torch.device('cpu'))
    idx = torch.tensor([0, 3])
    batch = stack_samples([data[int(i)] for i in idx])
    cfg = _config(setup, Path('unused'), 1)
    terms = lim_terms(LIM(TINY_LIM), lrm, batch, keyframes, idx, cfg,
                      torch.Generator().manual_seed(0))
    assert terms['causal_plane'].item() == pytest.approx(terms['plane'].item(), rel=1e-4)
    assert {'plane', 'feature', 'sdf', 'render_albedo'} <= terms.keys()
    off = _config(setup, Path('unused'), 1, causal=0.0)
    plain = lim_terms(LIM(TINY_LIM), lrm, batch, keyframes, idx, off,
                      torch.Generator().manual_seed(0))
    assert 'causal_plane' not in plain
    assert weighted_total(terms, cfg.losses) > weighted_total(plain, off.losses)


def test_training_writes_checkpoints_and_resumes(setup, tmp_path):
    summary = train(_config(setup, tmp_path, 3))
    assert summary['steps'] == 3
    for name in ('best.safetensors', 'last.safetensors', 'log.jsonl', 'linear_val.json'):
        assert (tmp_path / name).exists()
    assert load_lim(tmp_path / 'best.safetensors').config == TINY_LIM
    train(_config(setup, tmp_path, 4))  # resumes at step 3
    records = [json.loads(line) for line in (tmp_path / 'log.jsonl').read_text().splitlines()]
    assert [r['step'] for r in records] == [1, 2, 3, 4]
    assert all(r['causal_plane'] > 0 for r in records)
    assert 'val_iou_held_out' in records[-1]
    header = summarise(tmp_path / 'log.jsonl', every=2).splitlines()[0]
    assert '| plane | distill | causal_plane |' in header and 'val_iou_seen' in header


def test_a_run_can_start_from_a_trained_lim(setup, tmp_path):
    check_init_checkpoint(train, lambda out: _config(setup, out, 2), load_lim,
                          dataclasses.replace(TINY_LIM, depth=TINY_LIM.depth + 1), tmp_path)


def test_without_correction_heads_only_the_gather_learns(setup, tmp_path):
    cfg = dataclasses.replace(_config(setup, tmp_path, 2), correction_heads=False, lr=1e-2)
    train(cfg)
    lim = load_lim(tmp_path / 'best.safetensors')  # validated at step 2
    for head in (lim.feature_head, lim.plane_head.proj):
        assert head.weight.abs().max() == 0.0 and head.bias.abs().max() == 0.0
    assert lim.gather_source.query.weight.abs().max() > 0.0  # zero at the start
