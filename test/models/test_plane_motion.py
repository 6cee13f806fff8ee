"""Tests of LIM's motion path: forward splatting and soft token matching."""

from lim_ros.models.plane_motion import splat, TokenMatcher
import pytest
import torch


def _planes(n: int = 8, channels: int = 2, seed: int = 0) -> torch.Tensor:
    return torch.randn(1, 3, channels, n, n, generator=torch.Generator().manual_seed(seed))


def test_integer_flow_shifts_content_and_drops_what_leaves():
    values = _planes()
    flow = torch.zeros(1, 3, 2, 8, 8)
    flow[:, :, 0] = 2.0  # two pixels along x (columns)
    flow[:, :, 1] = -1.0  # one pixel up (rows)
    sums, weights = splat(values, flow, torch.zeros(1, 3, 1, 8, 8))
    assert torch.allclose(sums[..., :7, 2:], values[..., 1:, :6])
    assert torch.equal(weights[..., :7, 2:], torch.ones_like(weights[..., :7, 2:]))
    assert weights[..., :, :2].sum() == 0 and weights[..., 7, :].sum() == 0


def test_half_pixel_flow_shares_bilinearly_and_keeps_the_total():
    values = torch.zeros(1, 3, 1, 8, 8)
    values[..., 3, 3] = 1.0
    flow = torch.full((1, 3, 2, 8, 8), 0.5)
    sums, weights = splat(values, flow, torch.zeros(1, 3, 1, 8, 8))
    assert torch.allclose(sums[0, 0, 0, 3:5, 3:5], torch.full((2, 2), 0.25))
    assert sums.sum().item() == pytest.approx(3.0)
    inside = weights[..., 1:, 1:]  # row and column 0 get only their own pixel's half
    assert torch.allclose(inside, torch.ones_like(inside))


def test_importance_decides_what_covers_what():
    values = torch.zeros(1, 3, 1, 8, 8)
    values[..., 2, 2] = 1.0  # a moving pixel lands on a still one of value 0
    flow = torch.zeros(1, 3, 2, 8, 8)
    flow[..., 0, 2, 2] = 1.0
    importance = torch.zeros(1, 3, 1, 8, 8)
    importance[..., 2, 2] = 4.0
    sums, weights = splat(values, flow, importance)
    assert (sums / weights.clamp_min(1e-9))[0, 0, 0, 2, 3] > 0.95


def test_matcher_starts_still_and_can_find_a_shifted_token():
    r, s, d = 8, 2, 8
    matcher = TokenMatcher(d, r, s, match_dim=d)
    source = torch.randn(1, 3 * r * r, d, generator=torch.Generator().manual_seed(1))
    target = source.reshape(1, 3, r, r, d).roll(1, dims=3).reshape(1, 3 * r * r, d)
    assert torch.equal(matcher(source, target), torch.zeros(1, 3, 2, r * s, r * s))
    with torch.no_grad():  # a content similarity sharp enough to win over the distance term
        for layer in (matcher.query, matcher.key):
            layer.weight.copy_(10.0 * torch.eye(d))
            layer.bias.zero_()
    flow = matcher(source, target).detach()
    # tokens of columns 0-6 moved one token (s pixels) along x, column 7 wrapped round to 0;
    # pixels between interior tokens 3 and 4 (of rows and of columns) read their flow alone
    assert flow[0, :, 0, 7:9, 7:9].mean().item() == pytest.approx(s, abs=0.1)
    assert flow[0, :, 1, 7:9, 7:9].abs().max().item() < 0.1
