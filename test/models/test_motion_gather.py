"""Tests of LIM's motion path: gathering a keyframe's content by attention."""

from lim_ros.models.motion_gather import MotionGather, token_distances
import pytest
import torch


def test_token_distances_are_squared_cell_distances():
    d = token_distances(3)
    assert d.shape == (9, 9)
    assert d[0, 8].item() == pytest.approx(8.0) and d[4, 5].item() == pytest.approx(1.0)
    assert torch.equal(d, d.T)


def test_starts_with_every_cell_keeping_its_own_value():
    r, d = 4, 8
    g = torch.Generator().manual_seed(0)
    gather = MotionGather(d, r, match_dim=d)
    tokens, keyframe = (torch.randn(2, 3 * r * r, d, generator=g) for _ in range(2))
    values = torch.randn(2, 3 * r * r, 5, generator=g)
    assert torch.allclose(gather(tokens, keyframe, values), values, atol=1e-6)


def test_a_sharp_match_fetches_the_value_from_where_the_content_was():
    r, d = 6, 16
    g = torch.Generator().manual_seed(1)
    gather = MotionGather(d, r, match_dim=d)
    with torch.no_grad():  # a content similarity sharp enough to win over the distance prior
        gather.query.weight.copy_(8.0 * torch.eye(d))
        gather.key.weight.copy_(8.0 * torch.eye(d))
        gather.log_tau_keep.fill_(-5.0)  # a blur of width ~0: the pure gather
    keyframe = torch.randn(1, 3, r, r, d, generator=g)
    values = torch.randn(1, 3, r, r, 4, generator=g)
    # the token at column j asks for what the keyframe had at column j - 2: a 2-cell motion
    tokens = keyframe.roll(2, dims=3).reshape(1, -1, d)
    out = gather(tokens, keyframe.reshape(1, -1, d), values.reshape(1, -1, 4))
    expected = values.roll(2, dims=3).reshape(1, -1, 4)
    assert torch.allclose(out.detach(), expected, atol=0.05)
