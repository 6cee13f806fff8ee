"""Nearest, linear and LIM triplane interpolation, and choosing a method by name."""

from lim_ros.engine.interpolation import interpolator, linear, nearest
from lim_ros.engine.keyframe_buffer import Keyframe
from lim_ros.errors import ConfigError
from lim_ros.models.lim import LIM
import pytest
from tiny_models import TINY_LIM, TINY_LRM
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


def test_lim_interpolates_with_the_model_and_keeps_keyframes():
    n, tokens = TINY_LRM.plane_resolution, 3 * TINY_LRM.token_resolution**2
    g = torch.Generator().manual_seed(0)
    k0, k1 = (Keyframe(s, torch.randn(1, 3, TINY_LRM.plane_channels, n, n, generator=g),
                       torch.randn(1, tokens, TINY_LRM.dim, generator=g)) for s in (0, 10))
    lim = LIM(TINY_LIM).eval()
    method = interpolator('lim', lim)
    assert torch.equal(method(k0, k1, 0.0), k0.planes)
    assert torch.allclose(method(k0, k1, 0.4), linear(k0, k1, 0.4), atol=1e-6)  # untrained
    with torch.no_grad():
        lim.plane_head.proj.bias.fill_(0.5)
    assert torch.allclose(method(k0, k1, 0.4), linear(k0, k1, 0.4) + 0.5, atol=1e-6)
    with pytest.raises(ConfigError, match="'lim' needs a LIM model"):
        interpolator('lim')


def test_triplane_flow_keeps_keyframes_and_matches_each_pair_once():
    n, tokens = TINY_LRM.plane_resolution, 3 * TINY_LRM.token_resolution**2
    g = torch.Generator().manual_seed(1)
    k0, k1, k2 = (Keyframe(s, torch.randn(1, 3, TINY_LRM.plane_channels, n, n, generator=g),
                           torch.randn(1, tokens, TINY_LRM.dim, generator=g))
                  for s in (0, 10, 20))
    method = interpolator('triplane_flow')
    assert torch.equal(method(k0, k1, 0.0), k0.planes)
    assert torch.allclose(method(k0, k1, 1.0), k1.planes, atol=1e-5)
    middle = method(k0, k1, 0.5)
    kept = method._flows
    assert method(k0, k1, 0.25).shape == k0.planes.shape
    assert method._flows is kept  # the same pair: its flows were not matched again
    assert torch.equal(method(k0, k1, 0.5), middle)
    method(k1, k2, 0.5)
    assert method._flows is not kept
    assert not torch.allclose(middle, linear(k0, k1, 0.5))  # the planes moved, not blended
