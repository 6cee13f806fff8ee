"""
Camera poses from tf (``pose_source: tf``): each camera's optical frame in the volume frame.

tf2_ros is imported only here and only when this source is chosen; without it the node
refuses to start with a ConfigError that names it (tf2_ros is not on PyPI, so the tests
check that refusal only). The frame of a camera is the ``frame_id`` of its CameraInfo, looked
up at the image stamp, so moving cameras work.
"""

from lim_ros.errors import ConfigError, LimError
from lim_ros.stream.config import parameters_to_poses
from rclpy.node import Node
from rclpy.time import Time
import torch


class PoseError(LimError):
    """A camera pose could not be found (no transform at that stamp, no frame id)."""


class TfPoses:
    """A tf buffer and listener; `pose` looks one transform up."""

    def __init__(self, node: Node, cache_s: float = 10.0) -> None:
        """
        Listen to /tf and /tf_static on ``node``, keeping ``cache_s`` seconds of transforms.

        :raises ConfigError: if tf2_ros is not installed.
        """
        try:
            import tf2_ros
        except ImportError as e:
            raise ConfigError('pose_source: tf needs the ROS 2 package tf2_ros (Python module '
                              'tf2_ros), which is not installed; install ros-jazzy-tf2-ros or '
                              'set pose_source: parameters') from e
        from rclpy.duration import Duration

        self._errors = (tf2_ros.TransformException,)
        self._buffer = tf2_ros.Buffer(cache_time=Duration(seconds=cache_s))
        self._listener = tf2_ros.TransformListener(self._buffer, node)

    def pose(self, volume_frame: str, camera_frame: str, stamp_ns: int) -> torch.Tensor:
        """
        Return the 4x4 camera-to-volume transform of ``camera_frame`` at ``stamp_ns``.

        :raises PoseError: if the frame is unnamed or tf has no transform at that stamp.
        """
        if not camera_frame:
            raise PoseError('camera_info: empty header.frame_id, so the camera frame for tf '
                            'is unknown')
        try:
            t = self._buffer.lookup_transform(volume_frame, camera_frame,
                                              Time(nanoseconds=stamp_ns)).transform
        except self._errors as e:
            raise PoseError(f'tf: no transform {volume_frame} <- {camera_frame} at '
                            f'{stamp_ns} ns: {e}') from e
        values = [t.translation.x, t.translation.y, t.translation.z,
                  t.rotation.x, t.rotation.y, t.rotation.z, t.rotation.w]
        try:
            return parameters_to_poses(values, 1)[0]
        except ConfigError as e:
            raise PoseError(f'tf: transform {volume_frame} <- {camera_frame}: {e}') from e
