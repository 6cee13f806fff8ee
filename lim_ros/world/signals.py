"""Smooth scalar signals of time: the motion of every joint, deformation and rigid pose."""

from dataclasses import dataclass

from lim_ros.errors import StampError
import torch


@dataclass(frozen=True)
class SmoothSignal:
    """
    C independent channels, each a drift plus a sum of K sinusoids around an offset.

    ``value(t)[c] = offset[c] + rate[c] t
    + sum_k amplitude[c, k] * sin(2π frequency[c, k] t + phase[c, k])``
    with t in seconds and frequency in Hz. The largest change between two times t0 < t1 is
    bounded by ``(|rate| + sum_k |amplitude| 2π frequency) (t1 - t0)``.
    """

    offset: torch.Tensor  # (C,)
    amplitude: torch.Tensor  # (C, K)
    frequency: torch.Tensor  # (C, K), Hz
    phase: torch.Tensor  # (C, K), radians
    rate: torch.Tensor  # (C,), units per second

    @property
    def channels(self) -> int:
        """Return the number of channels C."""
        return self.offset.shape[0]

    def __call__(self, t: float) -> torch.Tensor:
        """Evaluate all channels at time ``t`` (seconds), shape (C,)."""
        angle = 2.0 * torch.pi * self.frequency * t + self.phase
        return self.offset + self.rate * t + (self.amplitude * torch.sin(angle)).sum(dim=-1)

    def chord(self, t0: float, t1: float) -> 'SmoothSignal':
        """Return the drift that takes every channel from its value at ``t0`` to that at ``t1``."""
        _check_order('chord', t0, t1)
        start, end = self(t0), self(t1)
        rate = (end - start) / (t1 - t0)
        zeros = torch.zeros(start.shape[0], 1, dtype=start.dtype)
        return SmoothSignal(start - rate * t0, zeros, zeros, zeros, rate)

    def spline(self, t0: float, t1: float) -> 'KeyframeSpline':
        """Return the Catmull-Rom cubic through the values at t0 - h, t0, t1, t1 + h."""
        _check_order('spline', t0, t1)
        h = t1 - t0
        return KeyframeSpline(t0, t1, torch.stack([self(t) for t in (t0 - h, t0, t1, t1 + h)]))

    @staticmethod
    def constant(values: torch.Tensor) -> 'SmoothSignal':
        """Return a signal that holds ``values`` (C,) at every time."""
        zeros = torch.zeros(values.shape[0], 1, dtype=values.dtype)
        return SmoothSignal(values, zeros, zeros, zeros, torch.zeros_like(values))

    @staticmethod
    def random(
        generator: torch.Generator,
        channels: int,
        amplitude: float | torch.Tensor,
        frequency_range: tuple[float, float] = (0.15, 0.6),
        terms: int = 2,
    ) -> 'SmoothSignal':
        """Draw a zero-offset signal with per-channel peak ``amplitude`` split over ``terms``."""
        amp = torch.as_tensor(amplitude, dtype=torch.float32).expand(channels)
        weights = torch.rand(channels, terms, generator=generator) + 0.25
        weights = weights / weights.sum(dim=-1, keepdim=True)
        low, high = frequency_range
        freq = low + (high - low) * torch.rand(channels, terms, generator=generator)
        phase = 2.0 * torch.pi * torch.rand(channels, terms, generator=generator)
        zeros = torch.zeros(channels)
        return SmoothSignal(zeros, amp[:, None] * weights, freq, phase, zeros)

    @staticmethod
    def concat(signals: 'list[SmoothSignal]') -> 'SmoothSignal':
        """Stack the channels of signals with the same K into one signal."""
        return SmoothSignal(
            *(torch.cat([getattr(s, f) for s in signals]) for f in SIGNAL_FIELDS)
        )


SIGNAL_FIELDS = ('offset', 'amplitude', 'frequency', 'phase', 'rate')


def _check_order(what: str, t0: float, t1: float) -> None:
    if not t1 > t0:  # NaN fails too
        raise StampError(f'{what}: expected t0 < t1 (seconds), got t0 = {t0}, t1 = {t1}')


@dataclass(frozen=True)
class KeyframeSpline:
    """
    C channels on the uniform Catmull-Rom cubic through their values at four keyframes.

    ``values`` (4, C) are at t0 - h, t0, t1, t1 + h with h = t1 - t0. With u = (t - t0) / h,
    the cubic Hermite curve from values[1] to values[2] with tangents (values[2] - values[0]) / 2
    and (values[3] - values[1]) / 2 (per unit of u); exact at t0 and t1 and on any quadratic
    in t; meant for t0 <= t <= t1. What an interpolator that knew the exact values at the four
    keyframes, and nothing between them, would predict.
    """

    t0: float
    t1: float
    values: torch.Tensor  # (4, C)

    def __call__(self, t: float) -> torch.Tensor:
        """Evaluate all channels at time ``t`` (seconds), shape (C,)."""
        u = (t - self.t0) / (self.t1 - self.t0)
        before, start, end, after = self.values
        weights = (2 * u**3 - 3 * u**2 + 1, (u**3 - 2 * u**2 + u) / 2,
                   -2 * u**3 + 3 * u**2, (u**3 - u**2) / 2)
        return (weights[0] * start + weights[1] * (end - before) + weights[2] * end
                + weights[3] * (after - start))
