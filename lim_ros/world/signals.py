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
        if not t1 > t0:  # NaN fails too
            raise StampError(f'chord: expected t0 < t1 (seconds), got t0 = {t0}, t1 = {t1}')
        start, end = self(t0), self(t1)
        rate = (end - start) / (t1 - t0)
        zeros = torch.zeros(start.shape[0], 1, dtype=start.dtype)
        return SmoothSignal(start - rate * t0, zeros, zeros, zeros, rate)

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
