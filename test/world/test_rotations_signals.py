"""Tests of rotation helpers and smooth signals."""

import math

from lim_ros.errors import StampError
from lim_ros.world.rotations import axis_angle_to_matrix, random_rotation
from lim_ros.world.signals import SmoothSignal
import pytest
import torch


def test_axis_angle_quarter_turn_about_z():
    rot = axis_angle_to_matrix(torch.tensor([0.0, 0.0, math.pi / 2]))
    assert torch.allclose(rot @ torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0]),
                          atol=1e-6)


def test_axis_angle_is_orthonormal_and_exact_at_zero():
    vectors = torch.randn(100, 3, generator=torch.Generator().manual_seed(1))
    vectors[0] = 0.0
    rot = axis_angle_to_matrix(vectors)
    eye = torch.eye(3).expand(100, 3, 3)
    assert torch.allclose(rot @ rot.transpose(1, 2), eye, atol=1e-5)
    assert torch.allclose(torch.linalg.det(rot), torch.ones(100), atol=1e-5)
    assert torch.equal(rot[0], torch.eye(3))


def test_random_rotation_is_proper_and_seeded():
    a = random_rotation(torch.Generator().manual_seed(3))
    b = random_rotation(torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert torch.allclose(a @ a.T, torch.eye(3), atol=1e-6)
    assert abs(float(torch.linalg.det(a)) - 1.0) < 1e-6


def test_signal_value_matches_formula():
    signal = SmoothSignal(
        offset=torch.tensor([1.0]), amplitude=torch.tensor([[2.0]]),
        frequency=torch.tensor([[0.25]]), phase=torch.tensor([[0.0]]), rate=torch.tensor([0.5]),
    )
    # t = 1 s: 1 + 0.5 + 2 sin(2π 0.25) = 3.5
    assert torch.allclose(signal(1.0), torch.tensor([3.5]))


def test_random_signal_respects_peak_amplitude_and_seed():
    make = lambda: SmoothSignal.random(torch.Generator().manual_seed(5), 4, 0.8)  # noqa: E731
    a, b = make(), make()
    assert torch.equal(a.amplitude, b.amplitude)
    values = torch.stack([a(float(t)) for t in torch.linspace(0, 10, 200)])
    assert values.abs().max() <= 0.8 + 1e-6
    assert values.abs().max() > 0.2


def test_concat_stacks_channels():
    a = SmoothSignal.constant(torch.tensor([1.0, 2.0]))
    b = SmoothSignal.constant(torch.tensor([3.0]))
    assert torch.equal(SmoothSignal.concat([a, b])(7.0), torch.tensor([1.0, 2.0, 3.0]))


def test_chord_moves_at_constant_speed_between_the_signals_values():
    signal = SmoothSignal.random(torch.Generator().manual_seed(3), 4, 1.0)
    chord = signal.chord(0.5, 1.5)
    assert torch.allclose(chord(0.5), signal(0.5), atol=1e-6)
    assert torch.allclose(chord(1.5), signal(1.5), atol=1e-6)
    assert torch.allclose(chord(0.75), 0.75 * signal(0.5) + 0.25 * signal(1.5), atol=1e-6)
    assert torch.allclose(chord(1.0) - chord(0.5), chord(1.5) - chord(1.0), atol=1e-6)


@pytest.mark.parametrize('t0, t1', [(1.0, 1.0), (2.0, 1.0), (float('nan'), 1.0)])
def test_chord_refuses_times_out_of_order(t0, t1):
    with pytest.raises(StampError, match='chord: expected t0 < t1'):
        SmoothSignal.constant(torch.zeros(2)).chord(t0, t1)


def test_spline_passes_through_the_inner_keyframes_and_is_exact_on_quadratics():
    signal = SmoothSignal.random(torch.Generator().manual_seed(3), 4, 1.0)
    spline = signal.spline(1.0, 1.5)
    for t in (1.0, 1.5):
        assert torch.allclose(spline(t), signal(t), atol=1e-6)
    # Catmull-Rom reproduces every quadratic: a drift exactly, a slow sinusoid nearly
    drift = SmoothSignal(torch.tensor([1.0]), torch.zeros(1, 1), torch.zeros(1, 1),
                         torch.zeros(1, 1), torch.tensor([2.0]))
    assert torch.allclose(drift.spline(0.0, 1.0)(0.3), drift(0.3), atol=1e-6)
    slow = SmoothSignal(torch.zeros(1), torch.ones(1, 1), torch.full((1, 1), 0.05),
                        torch.zeros(1, 1), torch.zeros(1))
    chord_miss = (slow.chord(0.0, 1.0)(0.5) - slow(0.5)).abs()
    spline_miss = (slow.spline(0.0, 1.0)(0.5) - slow(0.5)).abs()
    assert spline_miss < 0.05 * chord_miss


@pytest.mark.parametrize('t0, t1', [(1.0, 1.0), (2.0, 1.0), (float('nan'), 1.0)])
def test_spline_refuses_times_out_of_order(t0, t1):
    with pytest.raises(StampError, match='spline: expected t0 < t1'):
        SmoothSignal.constant(torch.zeros(2)).spline(t0, t1)
