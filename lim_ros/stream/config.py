"""
How camera streams become keyframes and outputs; shared by the ROS node and ``lim-ros bag``.

Convention: ``camera_poses`` holds 7 numbers per camera, ``x y z qx qy qz qw``: the pose of
the camera's optical frame (OpenCV: x right, y down, z forward) in ``volume_frame``, metres
and a unit quaternion (Hamilton, scalar last, as ROS). Rates are Hz, durations seconds.
"""

from dataclasses import dataclass, field

from lim_ros.cameras import rig
from lim_ros.errors import ConfigError
import numpy as np
from scipy.spatial.transform import Rotation
import torch

RATE_RANGE_HZ = (0.001, 1000.0)  # keyframe and output rates
MAX_DURATION_S = 3600.0  # sync tolerance and output lag: seconds in nanoseconds stay exact


def poses_to_parameters(world_T_cam: torch.Tensor) -> list[float]:
    """Return the flat ``x y z qx qy qz qw`` list (7 V,) of camera-to-volume poses (V, 4, 4)."""
    pose = world_T_cam.double().numpy()
    quat = Rotation.from_matrix(pose[:, :3, :3]).as_quat()  # (V, 4) x y z w
    return np.concatenate([pose[:, :3, 3], quat], axis=1).reshape(-1).round(9).tolist()


def parameters_to_poses(values: list[float] | tuple[float, ...], count: int) -> torch.Tensor:
    """
    Return camera-to-volume poses (count, 4, 4) float32 from ``camera_poses``.

    :raises ConfigError: unless there are 7 finite numbers per camera with unit quaternions.
    """
    flat = np.asarray(values, dtype=np.float64)
    if flat.shape != (7 * count,):
        raise ConfigError(f'camera_poses: expected 7 numbers (x y z qx qy qz qw) for each of '
                          f'{count} cameras ({7 * count}), got {flat.size}')
    if not np.isfinite(flat).all():
        raise ConfigError('camera_poses: expected finite numbers, found NaN or inf')
    rows = flat.reshape(count, 7)
    norms = np.linalg.norm(rows[:, 3:], axis=1)
    if np.abs(norms - 1.0).max() > 1e-3:
        raise ConfigError(f'camera_poses: expected unit quaternions, got norms {norms.round(4)}')
    pose = np.tile(np.eye(4), (count, 1, 1))
    pose[:, :3, :3] = Rotation.from_quat(rows[:, 3:]).as_matrix()
    pose[:, :3, 3] = rows[:, :3]
    return torch.from_numpy(pose).float()


def _default_names() -> list[str]:
    return ['cam0', 'cam1', 'cam2', 'cam3']


def _default_poses() -> list[float]:
    return poses_to_parameters(rig(4, 64).world_T_cam)


@dataclass(frozen=True)
class StreamConfig:
    """The static rig, the keyframe and output rates, and the output frame."""

    cameras: list[str] = field(default_factory=_default_names)  # camera namespaces
    camera_poses: list[float] = field(default_factory=_default_poses)  # 7 per camera
    sync_tolerance: float = 0.02  # s: the largest stamp spread within one keyframe
    keyframe_rate: float = 2.0  # Hz: at most this many keyframes per second
    publish_rate: float = 10.0  # Hz: outputs per second
    publish_lag: float = 0.6  # s: outputs are this far behind the clock (needs k+1)
    volume_frame: str = 'lim_volume'  # frame of the poses and of every output

    def __post_init__(self) -> None:
        """Validate every field; raise ConfigError naming the first bad one."""
        names = list(self.cameras)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ConfigError(f'cameras: expected one or more non-empty names, got {names!r}')
        if len(set(names)) != len(names):
            raise ConfigError(f'cameras: expected distinct names, got {names!r}')
        parameters_to_poses(self.camera_poses, len(names))
        for name in ('sync_tolerance', 'publish_lag'):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= MAX_DURATION_S:
                raise ConfigError(f'{name}: expected a number of seconds in [0, '
                                  f'{MAX_DURATION_S:g}], got {value!r}')
        low, high = RATE_RANGE_HZ
        for name in ('keyframe_rate', 'publish_rate'):
            value = getattr(self, name)
            if not low <= float(value) <= high:
                raise ConfigError(f'{name}: expected a rate in [{low:g}, {high:g}] Hz, got '
                                  f'{value!r}')
        if not isinstance(self.volume_frame, str) or not self.volume_frame:
            raise ConfigError(f'volume_frame: expected a frame id, got {self.volume_frame!r}')

    def poses(self) -> torch.Tensor:
        """Return the camera-to-volume transforms (V, 4, 4), in the order of ``cameras``."""
        return parameters_to_poses(self.camera_poses, len(self.cameras))

    @property
    def keyframe_interval_ns(self) -> int:
        """Return the shortest time between keyframes, ns."""
        return int(round(1e9 / self.keyframe_rate))

    @property
    def sync_tolerance_ns(self) -> int:
        """Return the synchronisation tolerance, ns."""
        return int(round(1e9 * self.sync_tolerance))
