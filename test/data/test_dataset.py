"""Tests of the training-data iterator: content, determinism, worker processes, bad configs."""

from lim_ros.data.dataset import DataConfig, make_loader, sample_times, WorldDataset
from lim_ros.errors import ConfigError
from lim_ros.world.families import HELD_OUT_FAMILIES, make_object, SEEN_FAMILIES
import pytest
import torch

SMALL = {'num_samples': 4, 'image_size': 24, 'num_surface_points': 256,
         'num_volume_points': 128, 'num_near_points': 128}


def test_sample_content_and_ground_truth():
    cfg = DataConfig(num_times=3, **SMALL)
    sample = WorldDataset(cfg)[1]
    assert sample.family in SEEN_FAMILIES
    assert sample.rgb.shape == (3, 4, 3, 24, 24)
    assert sample.query_points.shape == (3, 256, 3) and sample.query_sdf.shape == (3, 256)
    assert (sample.times[1:] >= sample.times[:-1]).all()
    obj = make_object(sample.family, sample.object_seed)
    for i, t in enumerate(sample.times.tolist()):
        assert torch.allclose(obj.sdf(sample.query_points[i], t), sample.query_sdf[i])
        assert obj.sdf(sample.surface_points[i], t).abs().max() < 1e-4
    # canonical positions are at the first instant: the identity there
    assert torch.allclose(sample.surface_canonical[0], sample.surface_points[0], atol=1e-4)
    assert ((sample.query_sdf < 0).float().mean() > 0.05)
    assert sample.mask.sum() > 0 and sample.cameras().plucker().shape == (4, 6, 24, 24)


def test_samples_are_deterministic_across_workers():
    cfg = DataConfig(seed=3, **SMALL)
    direct = [WorldDataset(cfg)[i] for i in range(4)]
    batches = list(make_loader(cfg, batch_size=2, num_workers=2))
    stacked = torch.cat([b.rgb for b in batches])
    assert torch.equal(stacked, torch.stack([s.rgb for s in direct]))
    other = WorldDataset(DataConfig(seed=4, **SMALL))[0]
    assert not torch.equal(other.query_points, direct[0].query_points)


def test_orbit_views_are_the_first_view_turned_about_the_vertical_axis():
    cfg = DataConfig(cameras='orbit', num_times=2, orbit_offsets=(90.0, 180.0, 270.0), **SMALL)
    cameras = WorldDataset(cfg)[0].cameras()
    centres = cameras.centres
    assert torch.allclose(centres[:, 2], centres[:1, 2].expand(4))  # same elevation
    assert torch.allclose(centres[:, :2].norm(dim=-1), centres[:1, :2].norm(dim=-1).expand(4))
    turned = torch.stack([-centres[0, 1], centres[0, 0]])  # +90° about z
    assert torch.allclose(centres[1, :2], turned, atol=1e-5)
    assert torch.allclose(centres[2, :2], -centres[0, :2], atol=1e-5)
    assert torch.equal(cameras.K, cameras.K[:1].expand(4, 3, 3))


def test_held_out_families_can_be_selected():
    cfg = DataConfig(families=HELD_OUT_FAMILIES, cameras='rig', **SMALL)
    assert {WorldDataset(cfg)[i].family for i in range(4)} <= set(HELD_OUT_FAMILIES)


def test_times_span_the_requested_gap():
    cfg = DataConfig(num_times=4, gap_range=(0.5, 0.5), **SMALL)
    times = sample_times(cfg, torch.Generator().manual_seed(0))
    assert times.shape == (4,)
    assert abs(float(times[-1] - times[0]) - 0.5) < 1e-6
    assert 0.0 <= float(times[0]) and float(times[-1]) <= cfg.duration


@pytest.mark.parametrize('bad, field', [
    ({'families': ('dragon',)}, 'families'),
    ({'cameras': 'fisheye'}, 'cameras'),
    ({'num_views': 0}, 'num_views'),
    ({'gap_range': (0.5, 0.1)}, 'gap_range'),
    ({'cameras': 'orbit', 'num_views': 3}, 'num_views'),
])
def test_bad_config_names_the_field(bad, field):
    with pytest.raises(ConfigError, match=field):
        DataConfig(**bad)


def test_index_out_of_range():
    with pytest.raises(IndexError, match='index'):
        WorldDataset(DataConfig(**SMALL))[4]
