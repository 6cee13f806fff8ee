"""Tests of triplane flow: keyframe planes matched and warped to the instant between."""

from lim_ros.errors import ConfigError, ShapeError
from lim_ros.interp.triplane_flow import plane_flow, TriplaneFlow, TriplaneFlowConfig, warp
from lim_ros.models.lrm import blend, LRMOutput
import pytest
import torch

SIDE, TOKENS_PER_SIDE, CHANNELS, DIM = 32, 8, 4, 6


def _blob_planes(centre_x: float) -> torch.Tensor:
    """Return planes (1, 3, C, N, N): a textured Gaussian blob at ``centre_x`` on every plane."""
    ys, xs = torch.meshgrid(torch.arange(SIDE, dtype=torch.float32),
                            torch.arange(SIDE, dtype=torch.float32), indexing='ij')
    blob = torch.exp(-((xs - centre_x) ** 2 + (ys - SIDE / 2) ** 2) / 18.0)
    channels = torch.stack([blob, blob * (xs - centre_x) / 4.0, blob * (ys - SIDE / 2) / 4.0,
                            0.5 * blob ** 2])
    return channels.expand(3, -1, -1, -1)[None].clone()


def _keyframe(centre_x: float) -> LRMOutput:
    features = torch.arange(3 * TOKENS_PER_SIDE**2 * DIM, dtype=torch.float32)
    return LRMOutput(_blob_planes(centre_x), features.reshape(1, -1, DIM) / features.numel())


def test_flow_finds_a_shift_and_warp_undoes_it():
    planes0, planes1 = _blob_planes(12.0)[0], _blob_planes(16.0)[0]
    flow = plane_flow(planes0, planes1, TriplaneFlowConfig())
    assert flow.shape == (3, 2, SIDE, SIDE)
    near_blob = flow[:, :, 12:21, 10:19]  # around the blob, where the planes have content
    assert torch.allclose(near_blob[:, 0].mean(), torch.tensor(4.0), atol=0.5)
    assert near_blob[:, 1].abs().mean() < 0.5
    warped = warp(planes1, flow)
    inside = (slice(None), slice(None), slice(8, 24), slice(6, 20))
    assert (warped - planes0)[inside].abs().mean() < 0.3 * (planes1 - planes0)[inside].abs().mean()


def test_the_middle_instant_is_placed_between_the_keyframes():
    first, last = _keyframe(12.0), _keyframe(18.0)
    middle = _blob_planes(15.0)
    flowed = TriplaneFlow()(first, last, 0.5)
    blended = blend(first, last, 0.5)
    assert flowed.planes.shape == first.planes.shape
    assert flowed.features.shape == first.features.shape
    error = (flowed.planes - middle).square().mean()
    assert error < 0.25 * (blended.planes - middle).square().mean()


def test_alpha_zero_and_one_return_the_keyframes():
    first, last = _keyframe(12.0), _keyframe(18.0)
    method = TriplaneFlow()
    for alpha, keyframe in ((0.0, first), (1.0, last)):
        out = method(first, last, alpha)
        assert torch.allclose(out.planes, keyframe.planes, atol=1e-5)
        assert torch.allclose(out.features, keyframe.features, atol=1e-5)


def test_still_keyframes_stay_still():
    first = _keyframe(14.0)
    out = TriplaneFlow()(first, first, 0.3)
    assert torch.allclose(out.planes, first.planes, atol=5e-3)  # the arg-min is soft


@pytest.mark.parametrize('field, value', [('radius', 0), ('radius', 2.5), ('window', 4),
                                          ('window', 0), ('smoothness', -1.0),
                                          ('smoothness', float('nan')), ('temperature', 0.0)])
def test_invalid_settings_are_refused(field, value):
    with pytest.raises(ConfigError, match=field):
        TriplaneFlowConfig(**{field: value})


def test_bad_alpha_and_shapes_are_refused():
    first, last = _keyframe(12.0), _keyframe(18.0)
    for alpha in (-0.1, 1.5, float('nan')):
        with pytest.raises(ShapeError, match='alpha'):
            TriplaneFlow()(first, last, alpha)
    smaller = LRMOutput(first.planes[..., :16, :16], first.features)
    with pytest.raises(ShapeError, match='source, target'):
        TriplaneFlow()(first, smaller, 0.5)
    odd_tokens = LRMOutput(first.planes, first.features[:, :-1])
    with pytest.raises(ShapeError, match='source, target|features'):
        TriplaneFlow()(odd_tokens, LRMOutput(last.planes, last.features[:, :-1]), 0.5)
