"""Nearest and linear triplane interpolation, and choosing a method by name."""

from lim_ros.engine.interpolation import interpolator, linear, nearest
from lim_ros.engine.keyframe_buffer import Keyframe
from lim_ros.errors import ConfigError
import pytest
import torch

K0 = Keyframe(0, torch.zeros(1, 3, 2, 4, 4), torch.zeros(1, 3, 8))
K1 = Keyframe(10, torch.ones(1, 3, 2, 4, 4), torch.zeros(1, 3, 8))


def test_linear_blends_by_alpha_and_hits_the_keyframes():
    assert torch.allclose(linear(K0, K1, 0.25), torch.full_like(K0.planes, 0.25))
    assert torch.equal(linear(K0, K1, 0.0), K0.planes)
    assert torch.equal(linear(K0, K1, 1.0), K1.planes)


def test_nearest_switches_at_half():
    assert torch.equal(nearest(K0, K1, 0.49), K0.planes)
    assert torch.equal(nearest(K0, K1, 0.5), K1.planes)


def test_unknown_method():
    assert interpolator('linear') is linear
    with pytest.raises(ConfigError, match='interpolation'):
        interpolator('film')
