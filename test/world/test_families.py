"""Tests of the procedural families: determinism, variety, volume bounds, held-out split."""

from lim_ros.errors import ConfigError
from lim_ros.world.families import (
    check_families,
    FAMILIES,
    HELD_OUT_FAMILIES,
    make_object,
    SEEN_FAMILIES,
    TRAINING_ONLY_FAMILIES,
)
import pytest
import torch

PROBE = torch.rand(500, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1


def test_split_is_disjoint_and_holds_out_two_families():
    assert len(HELD_OUT_FAMILIES) >= 2
    assert set(SEEN_FAMILIES).isdisjoint(HELD_OUT_FAMILIES)
    assert set(TRAINING_ONLY_FAMILIES).isdisjoint(set(SEEN_FAMILIES) | set(HELD_OUT_FAMILIES))
    assert set(SEEN_FAMILIES) | set(HELD_OUT_FAMILIES) | set(TRAINING_ONLY_FAMILIES) == set(
        FAMILIES)


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_family_is_deterministic_and_seeds_differ(family):
    a, b, c = make_object(family, 7), make_object(family, 7), make_object(family, 8)
    assert torch.equal(a.sdf(PROBE, 0.9), b.sdf(PROBE, 0.9))
    assert not torch.equal(a.sdf(PROBE, 0.9), c.sdf(PROBE, 0.9))
    assert 1 <= a.num_parts <= 10


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_objects_stay_inside_the_volume_and_move(family):
    obj = make_object(family, 1)
    g = torch.Generator().manual_seed(0)
    start = obj.surface_samples(0.0, 800, g, t_ref=0.0)
    for t in (0.0, 1.1, 2.5, 3.9):
        points = obj.surface_samples(t, 800, g).points
        assert points.abs().max() < 0.9, f'{family} leaves the volume at t={t}'
    moved = obj.canonical(obj.surface_samples(1.0, 800, g).points, 1.0)
    assert start.points.abs().max() > 0.3  # fills a useful part of the volume
    assert (moved - obj.surface_samples(1.0, 800, g).points).abs().max() > 0.0


def test_articulated_families_have_two_to_ten_parts():
    for family in ('chain', 'humanoid', 'quadruped', 'starfish', 'creature'):
        counts = {make_object(family, s).num_parts for s in range(4)}
        assert min(counts) >= 2 and max(counts) <= 10, (family, counts)


def test_motion_ranges_from_small_to_large():
    # largest joint rotation between t and t + 0.5 s over objects of one family
    rotations = []
    for seed in range(6):
        obj = make_object('chain', seed)
        a, b = obj.joint_motion(1.0), obj.joint_motion(1.5)
        rotations.append(float((a - b).abs().max()))
    assert min(rotations) < 0.5 and max(rotations) > 0.8


def test_unknown_family_is_a_config_error():
    with pytest.raises(ConfigError, match='families'):
        check_families(['dragon'])
    with pytest.raises(ConfigError):
        make_object('dragon', 0)
