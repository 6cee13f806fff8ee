"""
Frames from several cameras → one synchronised set per keyframe.

Policy: each camera keeps only its latest frame. A set is emitted when every camera has a
frame, their stamps spread at most ``tolerance_ns``, and the set's stamp (the newest of its
frames) is at least ``interval_ns`` after the last set emitted; the frames used are then
consumed. A frame that replaces an unused one counts as superseded (normal when cameras run
faster than the keyframe rate). A stamp older than the same
camera's previous one means the clock went back: every slot is emptied and the interval
restarts (the engine resets its buffer on the next keyframe). A stamp equal to the same
camera's previous one is refused (a camera that leaves its stamps at zero or frozen, or a
duplicate), so such a stream is reported rather than silently superseded.
"""

from dataclasses import dataclass

from lim_ros.cameras import Cameras
from lim_ros.errors import ConfigError, ShapeError, StampError
import numpy as np
import torch


@dataclass(frozen=True)
class CameraFrame:
    """One decoded image with its intrinsics."""

    stamp_ns: int
    image: np.ndarray  # (H, W, 3) uint8 RGB
    K: torch.Tensor  # (3, 3) pixels


@dataclass(frozen=True)
class SyncedFrames:
    """One frame per camera, in the synchroniser's camera order."""

    stamp_ns: int  # the newest stamp of the set
    frames: tuple[CameraFrame, ...]


class FrameSynchronizer:
    """Latest-only slots per camera; see the module docstring."""

    def __init__(self, cameras: list[str], tolerance_ns: int, interval_ns: int) -> None:
        """Synchronise ``cameras`` (names) within ``tolerance_ns``, every ``interval_ns``."""
        if tolerance_ns < 0 or interval_ns < 0:
            raise ConfigError(f'tolerance_ns, interval_ns: expected >= 0, got {tolerance_ns}, '
                              f'{interval_ns}')
        self.cameras = list(cameras)
        self.tolerance_ns, self.interval_ns = tolerance_ns, interval_ns
        self._slots: dict[str, CameraFrame | None] = dict.fromkeys(self.cameras)
        self._last_stamp: dict[str, int] = {}
        self._last_emitted: int | None = None
        self.superseded = 0
        self.clock_resets = 0

    def offer(self, camera: str, frame: CameraFrame) -> SyncedFrames | None:
        """
        Store ``frame`` of ``camera``; return a synchronised set when one is complete.

        :raises StampError: if the stamp repeats ``camera``'s previous one (nothing changes).
        """
        if camera not in self._slots:
            raise ConfigError(f'camera: expected one of {self.cameras}, got {camera!r}')
        previous = self._last_stamp.get(camera)
        if frame.stamp_ns == previous:
            raise StampError(f'stamp: {frame.stamp_ns} ns repeats the previous image of camera '
                             f'{camera!r}; expected increasing stamps (images left unstamped, '
                             'or sent twice?)')
        if previous is not None and frame.stamp_ns < previous:
            self._slots = dict.fromkeys(self.cameras)
            self._last_stamp.clear()
            self._last_emitted = None
            self.clock_resets += 1
        self._last_stamp[camera] = frame.stamp_ns
        if self._slots[camera] is not None:
            self.superseded += 1
        self._slots[camera] = frame
        latest = [self._slots[c] for c in self.cameras]
        frames = tuple(f for f in latest if f is not None)
        if len(frames) < len(latest):
            return None
        stamps = [f.stamp_ns for f in frames]
        if max(stamps) - min(stamps) > self.tolerance_ns:
            return None
        stamp = max(stamps)
        if self._last_emitted is not None and stamp - self._last_emitted < self.interval_ns:
            return None
        self._slots = dict.fromkeys(self.cameras)
        self._last_emitted = stamp
        return SyncedFrames(stamp, frames)


def keyframe_inputs(synced: SyncedFrames, names: list[str],
                    world_T_cam: torch.Tensor) -> tuple[np.ndarray, Cameras]:
    """
    Stack a synchronised set into the engine's input: images (V, H, W, 3) and `Cameras`.

    ``names`` are the cameras in the set's order (for messages), ``world_T_cam`` (V, 4, 4)
    their poses in the volume frame.

    :raises ShapeError: if the cameras' images differ in size (one keyframe needs one size).
    """
    sizes = [frame.image.shape[:2] for frame in synced.frames]
    if len(set(sizes)) != 1:
        listed = ', '.join(f'{n} {h}x{w}' for n, (h, w) in zip(names, sizes))
        raise ShapeError(f'images: expected one image size for all cameras of a keyframe, '
                         f'got {listed}')
    images = np.stack([frame.image for frame in synced.frames])
    K = torch.stack([frame.K for frame in synced.frames])
    return images, Cameras(K, world_T_cam, *sizes[0])
