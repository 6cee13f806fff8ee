"""Tests of `lim-ros train evidence`: a real tiny run over a frozen LRM, and its checks."""

import dataclasses
from pathlib import Path

from lim_ros.data.cache import write_cache
from lim_ros.data.dataset import DataConfig
from lim_ros.errors import ConfigError
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.lrm import load_lrm, LRM
from lim_ros.training.train_evidence import check_view_sets, EvidenceTrainConfig, train
import pytest
from tiny_models import TINY_LRM
import torch


@pytest.fixture(scope='module')
def run(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp('evidence')
    write_cache(DataConfig(num_samples=4, image_size=32, num_views=3, num_surface_points=128,
                           num_volume_points=64, num_near_points=64), root / 'cache',
                shard_size=2, num_workers=0)
    torch.manual_seed(0)
    save_checkpoint(root / 'base.safetensors', LRM(TINY_LRM), TINY_LRM, kind='lrm')
    cfg = EvidenceTrainConfig(base=str(root / 'base.safetensors'), evidence_samples=4,
                              view_sets=((0, 1), (2,)), data_dir=str(root / 'cache'),
                              out_dir=str(root / 'run'), steps=3, batch_size=2,
                              warmup_steps=1, query_points=64, surface_points=32,
                              render_rays=16, render_samples=8, log_every=1,
                              checkpoint_every=3, val_samples=1, precompute_batch=3)
    train(cfg)
    return root / 'base.safetensors', root / 'run'


def test_only_the_correction_is_trained(run):
    base_path, out = run
    base, model = load_lrm(base_path), load_lrm(out / 'best.safetensors')
    assert model.config == dataclasses.replace(base.config, evidence_samples=4)
    trained = model.state_dict()
    for name, value in base.state_dict().items():
        assert torch.equal(trained[name], value), name
    head = model.decoder.correction.head
    assert float(head.weight.detach().abs().sum()) > 0  # it starts at zero


def test_view_sets_must_leave_a_view_to_render():
    check_view_sets(((0, 1, 2), (5,)), 6)
    for bad in (((),), ((0, 0),), ((0, 1, 2),), ((3,),), ((-1,),)):
        with pytest.raises(ConfigError, match='view_sets'):
            check_view_sets(bad, 3)
