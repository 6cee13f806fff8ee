"""The keyframe buffer: sorted, bounded, reset when the clock goes back, brackets any stamp."""

from lim_ros.engine.keyframe_buffer import Keyframe, KeyframeBuffer
from lim_ros.errors import ConfigError, StampError
import pytest
import torch


def keyframe(stamp: int, value: float = 0.0) -> Keyframe:
    return Keyframe(stamp, torch.full((1, 3, 2, 4, 4), value), torch.zeros(1, 3, 8))


def test_bracket_gives_neighbours_and_alpha():
    buffer = KeyframeBuffer(8, 2**20)
    for stamp in (100, 200, 400):
        buffer.add(keyframe(stamp))
    k0, k1, alpha = buffer.bracket(300)
    assert (k0.stamp_ns, k1.stamp_ns, alpha) == (200, 400, 0.5)
    k0, k1, alpha = buffer.bracket(200)
    assert (k0.stamp_ns, k1.stamp_ns, alpha) == (200, 200, 0.0)
    k0, k1, alpha = buffer.bracket(400)
    assert (k0.stamp_ns, alpha) == (400, 0.0)


@pytest.mark.parametrize('stamp', [99, 401])
def test_stamps_outside_are_refused_naming_the_span(stamp):
    buffer = KeyframeBuffer(8, 2**20)
    buffer.add(keyframe(100))
    buffer.add(keyframe(400))
    with pytest.raises(StampError, match=r'outside the keyframe buffer \[100, 400\]'):
        buffer.bracket(stamp)


def test_bounded_by_count_and_by_bytes():
    buffer = KeyframeBuffer(3, 2**20)
    evicted = sum(buffer.add(keyframe(s)).evicted for s in range(10))
    assert buffer.stamps == [7, 8, 9] and evicted == 7
    one = keyframe(0).nbytes
    buffer = KeyframeBuffer(100, 2 * one)
    for s in range(5):
        buffer.add(keyframe(s))
    assert len(buffer) == 2 and buffer.nbytes <= 2 * one


def test_clock_going_back_resets_and_repeated_stamp_is_refused():
    buffer = KeyframeBuffer(8, 2**20)
    buffer.add(keyframe(100))
    buffer.add(keyframe(200))
    with pytest.raises(StampError, match='repeats'):
        buffer.add(keyframe(200))
    insertion = buffer.add(keyframe(50))
    assert insertion.reset and buffer.stamps == [50]


def test_bad_bounds_and_stamps():
    with pytest.raises(ConfigError, match='max_keyframes'):
        KeyframeBuffer(1, 100)
    with pytest.raises(ConfigError, match='max_bytes'):
        KeyframeBuffer(4, 0)
    with pytest.raises(StampError, match='non-negative'):
        KeyframeBuffer(4, 2**20).add(keyframe(-1))
    with pytest.raises(StampError, match='empty'):
        KeyframeBuffer(4, 2**20).bracket(0)
