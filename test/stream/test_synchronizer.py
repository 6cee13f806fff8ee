"""Frame synchronisation: complete sets within tolerance, at most one per interval."""

from lim_ros.errors import ConfigError, StampError
from lim_ros.stream.synchronizer import CameraFrame, FrameSynchronizer
import numpy as np
import pytest
import torch

MS = 1_000_000


def frame(stamp_ms: int) -> CameraFrame:
    return CameraFrame(stamp_ms * MS, np.zeros((2, 2, 3), np.uint8), torch.eye(3))


def test_emits_a_complete_set_within_tolerance():
    sync = FrameSynchronizer(['a', 'b'], tolerance_ns=5 * MS, interval_ns=100 * MS)
    assert sync.offer('a', frame(1000)) is None
    synced = sync.offer('b', frame(1003))
    assert synced.stamp_ns == 1003 * MS
    assert [f.stamp_ns for f in synced.frames] == [1000 * MS, 1003 * MS]


def test_spread_beyond_tolerance_waits_for_newer_frames():
    sync = FrameSynchronizer(['a', 'b'], tolerance_ns=5 * MS, interval_ns=0)
    sync.offer('a', frame(1000))
    assert sync.offer('b', frame(1050)) is None
    assert sync.offer('a', frame(1051)).stamp_ns == 1051 * MS
    assert sync.superseded == 1


def test_at_most_one_set_per_interval():
    sync = FrameSynchronizer(['a'], tolerance_ns=0, interval_ns=500 * MS)
    emitted = [sync.offer('a', frame(t)) for t in range(0, 2000, 100)]
    assert [s.stamp_ns // MS for s in emitted if s is not None] == [0, 500, 1000, 1500]


def test_clock_going_back_restarts():
    sync = FrameSynchronizer(['a'], tolerance_ns=0, interval_ns=500 * MS)
    assert sync.offer('a', frame(10_000)) is not None
    assert sync.offer('a', frame(100)).stamp_ns == 100 * MS
    assert sync.clock_resets == 1


def test_repeated_stamp_is_refused_and_changes_nothing():
    sync = FrameSynchronizer(['a', 'b'], tolerance_ns=0, interval_ns=0)
    assert sync.offer('a', frame(1000)) is None
    with pytest.raises(StampError, match='stamp: 1000000000 ns repeats the previous image of '
                       "camera 'a'"):
        sync.offer('a', frame(1000))
    assert sync.superseded == 0 and sync.clock_resets == 0
    assert sync.offer('b', frame(1000)).stamp_ns == 1000 * MS


def test_unknown_camera_and_bad_settings():
    sync = FrameSynchronizer(['a'], 0, 0)
    with pytest.raises(ConfigError, match='camera'):
        sync.offer('z', frame(0))
    with pytest.raises(ConfigError, match='tolerance'):
        FrameSynchronizer(['a'], -1, 0)
