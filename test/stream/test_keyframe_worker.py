"""The latest-only slot, the keyframe thread, and stacking a set into the engine's input."""

import threading
import time

from lim_ros.errors import ShapeError
from lim_ros.stream.keyframe_worker import KeyframeWorker, LatestSlot
from lim_ros.stream.synchronizer import CameraFrame, keyframe_inputs, SyncedFrames
import numpy as np
import pytest
import torch


def test_slot_keeps_only_the_newest_item_and_counts_drops():
    slot = LatestSlot()
    assert slot.take(timeout=0.0) is None
    assert slot.put('a') is False
    assert slot.put('b') is True  # 'a' was never taken: a drop
    assert slot.take(timeout=0.0) == 'b'
    assert slot.take(timeout=0.0) is None
    assert slot.put('c') is False


def test_close_wakes_a_waiting_take():
    slot = LatestSlot()
    result = []
    waiter = threading.Thread(target=lambda: result.append(slot.take(timeout=10.0)))
    waiter.start()
    time.sleep(0.05)
    slot.close()
    waiter.join(2.0)
    assert not waiter.is_alive() and result == [None] and slot.closed


def test_worker_hands_items_over_and_stops():
    seen, done = [], threading.Event()

    def handle(item, queued_at):
        seen.append((item, queued_at <= time.monotonic()))
        done.set()

    worker = KeyframeWorker(handle)
    worker.submit('set 1')
    assert done.wait(5.0)
    worker.stop()
    assert seen == [('set 1', True)] and not worker.alive


def test_worker_is_latest_only_while_busy():
    release, seen = threading.Event(), []

    def handle(item, _):
        seen.append(item)
        release.wait(5.0)

    worker = KeyframeWorker(handle)
    worker.submit(0)
    deadline = time.monotonic() + 5.0
    while not seen and time.monotonic() < deadline:
        time.sleep(0.01)
    drops = [worker.submit(i) for i in range(1, 5)]  # the worker is busy with 0
    assert drops == [False, True, True, True]
    release.set()
    deadline = time.monotonic() + 5.0
    while len(seen) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.stop()
    assert seen == [0, 4]


def _frame(stamp, h, w):
    return CameraFrame(stamp, np.zeros((h, w, 3), np.uint8), torch.eye(3))


def test_keyframe_inputs_stack_frames_and_refuse_mixed_sizes():
    poses = torch.eye(4).repeat(2, 1, 1)
    images, cameras = keyframe_inputs(SyncedFrames(5, (_frame(5, 4, 6), _frame(4, 4, 6))),
                                      ['a', 'b'], poses)
    assert images.shape == (2, 4, 6, 3) and (cameras.height, cameras.width) == (4, 6)
    assert cameras.K.shape == (2, 3, 3)
    with pytest.raises(ShapeError, match='a 4x6, b 8x6'):
        keyframe_inputs(SyncedFrames(5, (_frame(5, 4, 6), _frame(5, 8, 6))), ['a', 'b'], poses)
