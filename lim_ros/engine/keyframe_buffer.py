"""
The rolling keyframe buffer: LRM outputs sorted by stamp, bounded by count and by bytes.

Convention: stamps are ROS time in integer nanoseconds. Keyframes arrive in increasing stamp
order; a stamp older than the newest one means the clock went back (a bag looping, a clock
reset), so the buffer is cleared and starts again from that keyframe. A repeated stamp is
refused. When the buffer is over ``max_keyframes`` or ``max_bytes`` the oldest keyframes go.
"""

from bisect import bisect_right
from dataclasses import dataclass

from lim_ros.errors import ConfigError, StampError
import torch


@dataclass(frozen=True)
class Keyframe:
    """One reconstructed instant, held on the model's device."""

    stamp_ns: int
    planes: torch.Tensor  # (1, 3, C, N, N): the LRM's triplane
    features: torch.Tensor  # (1, 3·R·R, D): the LRM's last-layer tokens, LIM's input

    @property
    def nbytes(self) -> int:
        """Return the memory the keyframe's tensors take, bytes."""
        return sum(t.numel() * t.element_size() for t in (self.planes, self.features))


@dataclass(frozen=True)
class Insertion:
    """What adding a keyframe did to the buffer."""

    reset: bool  # the stamp went back in time, so the buffer was cleared first
    evicted: int  # keyframes dropped to stay within the bounds


class KeyframeBuffer:
    """Time-sorted keyframes, oldest first; see the module docstring for the policy."""

    def __init__(self, max_keyframes: int, max_bytes: int) -> None:
        """Bound the buffer to ``max_keyframes`` (>= 2, to interpolate) and ``max_bytes``."""
        if isinstance(max_keyframes, bool) or not isinstance(max_keyframes, int) \
                or max_keyframes < 2:
            raise ConfigError(f'max_keyframes: expected an integer >= 2, got {max_keyframes!r}')
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
            raise ConfigError(f'max_bytes: expected a positive integer, got {max_bytes!r}')
        self.max_keyframes, self.max_bytes = max_keyframes, max_bytes
        self._frames: list[Keyframe] = []

    def __len__(self) -> int:
        """Return the number of keyframes held."""
        return len(self._frames)

    @property
    def nbytes(self) -> int:
        """Return the memory held by all keyframes, bytes."""
        return sum(k.nbytes for k in self._frames)

    @property
    def span(self) -> tuple[int, int] | None:
        """Return (oldest, newest) stamps in ns, or None when empty."""
        return (self._frames[0].stamp_ns, self._frames[-1].stamp_ns) if self._frames else None

    @property
    def stamps(self) -> list[int]:
        """Return the stamps held, oldest first."""
        return [k.stamp_ns for k in self._frames]

    def add(self, keyframe: Keyframe) -> Insertion:
        """
        Insert ``keyframe``; return whether the buffer was reset and how many keyframes went.

        :raises StampError: if the stamp is negative or equals the newest stamp.
        :raises ConfigError: if one keyframe alone exceeds ``max_bytes``.
        """
        stamp = keyframe.stamp_ns
        if isinstance(stamp, bool) or not isinstance(stamp, int) or stamp < 0:
            raise StampError(f'stamp: expected a non-negative integer of ns, got {stamp!r}')
        if keyframe.nbytes > self.max_bytes:
            raise ConfigError(f'max_bytes: one keyframe takes {keyframe.nbytes} bytes, more '
                              f'than the bound {self.max_bytes}')
        reset = False
        if self._frames and stamp == self._frames[-1].stamp_ns:
            raise StampError(f'stamp: {stamp} ns repeats the stamp of the newest keyframe')
        if self._frames and stamp < self._frames[-1].stamp_ns:
            self._frames.clear()
            reset = True
        self._frames.append(keyframe)
        evicted = 0
        while len(self._frames) > self.max_keyframes or self.nbytes > self.max_bytes:
            self._frames.pop(0)
            evicted += 1
        return Insertion(reset=reset, evicted=evicted)

    def clear(self) -> None:
        """Drop every keyframe."""
        self._frames.clear()

    def bracket(self, stamp_ns: int) -> tuple[Keyframe, Keyframe, float]:
        """
        Return keyframes k, k+1 around ``stamp_ns`` and ``α = (t - t_k) / (t_k+1 - t_k)``.

        A keyframe's own stamp gives that keyframe with α = 0 (the newest: k = k+1, α = 0).

        :raises StampError: if the buffer is empty or ``stamp_ns`` lies outside its span.
        """
        span = self.span
        if span is None:
            raise StampError(f'stamp: {stamp_ns} ns requested, but the keyframe buffer is empty')
        first, last = span
        if not first <= stamp_ns <= last:
            raise StampError(f'stamp: {stamp_ns} ns is outside the keyframe buffer '
                             f'[{first}, {last}] ns')
        i = bisect_right(self.stamps, stamp_ns) - 1
        k0 = self._frames[i]
        if k0.stamp_ns == stamp_ns:
            return k0, k0, 0.0
        k1 = self._frames[i + 1]
        return k0, k1, (stamp_ns - k0.stamp_ns) / (k1.stamp_ns - k0.stamp_ns)
