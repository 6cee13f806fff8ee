"""
A synthetic scene recorded as a camera bag: what a robot's rig would have seen.

A dynamic object (`lim_ros.world.families.make_object`) is rendered by the sphere tracer
from the rig of a `StreamConfig` (its camera names and poses; pinhole intrinsics of
``fov_deg``) at ``camera_rate`` for ``duration`` seconds. Convention: the world of the object
is the volume frame (metres); object time t = 0 s is ROS time ``start_ns``, so frame i has
stamp ``start_ns + round(i / camera_rate s)`` and t = i / camera_rate. Each camera c gets
``/c/camera_info`` and ``/c/image_raw`` (rgb8) per frame, with header and bag time = stamp.
"""

from dataclasses import dataclass
import math
from pathlib import Path

from lim_ros.bag.topics import CAMERA_INFO, IMAGE, image_topic, info_topic
from lim_ros.bag.writer import BagWriter, qos, typestore
from lim_ros.cameras import Cameras, intrinsics
from lim_ros.data.preview import to_uint8
from lim_ros.errors import ConfigError
from lim_ros.render.sphere_tracer import render
from lim_ros.stream.config import StreamConfig
from lim_ros.wire import encode_image_cdr, ns_to_stamp
from lim_ros.wire.time import NS_PER_S
from lim_ros.world.families import check_families, make_object
import numpy as np
import torch

DEFAULT_START_NS = 1_700_000_000 * NS_PER_S  # 2023-11-14: a realistic ROS time


@dataclass(frozen=True)
class SceneConfig:
    """Which object, seen for how long, how often and how large."""

    family: str = 'humanoid'
    seed: int = 0
    duration: float = 2.0  # s
    camera_rate: float = 10.0  # Hz
    size: int = 128  # image side, px (square images)
    fov_deg: float = 40.0  # horizontal field of view, as `lim_ros.cameras.rig`
    start_ns: int = DEFAULT_START_NS  # ROS time of object time 0

    def __post_init__(self) -> None:
        """Validate every field; raise ConfigError naming the first bad one."""
        check_families((self.family,))
        if not 0.0 <= float(self.duration) < math.inf:
            raise ConfigError(f'duration: expected seconds >= 0, got {self.duration!r}')
        if not 0.0 < float(self.camera_rate) <= 1000.0:
            raise ConfigError(f'camera_rate: expected a rate in (0, 1000] Hz, '
                              f'got {self.camera_rate!r}')
        if isinstance(self.size, bool) or not isinstance(self.size, int) or self.size < 8:
            raise ConfigError(f'size: expected an integer >= 8 px, got {self.size!r}')
        if not 1.0 <= float(self.fov_deg) <= 170.0:
            raise ConfigError(f'fov_deg: expected degrees in [1, 170], got {self.fov_deg!r}')
        if isinstance(self.start_ns, bool) or not isinstance(self.start_ns, int) \
                or self.start_ns < 0:
            raise ConfigError(f'start_ns: expected a non-negative integer, got {self.start_ns!r}')

    def stamps(self) -> list[int]:
        """Return the stamps of the frames, ns, from ``start_ns`` to ``start_ns + duration``."""
        count = math.floor(self.duration * self.camera_rate + 1e-9) + 1
        return [self.start_ns + round(i * NS_PER_S / self.camera_rate) for i in range(count)]

    def time_of(self, stamp_ns: int) -> float:
        """Return the object time (s) of ROS time ``stamp_ns``."""
        return (stamp_ns - self.start_ns) / NS_PER_S


def scene_cameras(scene: SceneConfig, stream: StreamConfig) -> Cameras:
    """Return the rig of ``stream`` (poses in the volume frame) with ``scene``'s intrinsics."""
    count = len(stream.cameras)
    K = intrinsics(torch.full((count,), float(scene.fov_deg)), scene.size, scene.size)
    return Cameras(K, stream.poses(), scene.size, scene.size)


def camera_info_cdr(K: np.ndarray, height: int, width: int, stamp_ns: int,
                    frame_id: str) -> bytes:
    """Serialise a sensor_msgs/CameraInfo of an undistorted pinhole camera K (3, 3), pixels."""
    store = typestore()
    types = store.types
    sec, nanosec = ns_to_stamp(stamp_ns)
    header = types['std_msgs/msg/Header'](
        stamp=types['builtin_interfaces/msg/Time'](sec=sec, nanosec=nanosec), frame_id=frame_id)
    K = np.asarray(K, dtype=np.float64).reshape(3, 3)
    P = np.concatenate([K, np.zeros((3, 1))], axis=1)
    roi = types['sensor_msgs/msg/RegionOfInterest'](x_offset=0, y_offset=0, height=0, width=0,
                                                    do_rectify=False)
    message = types[CAMERA_INFO](
        header=header, height=height, width=width, distortion_model='plumb_bob',
        d=np.zeros(5), k=K.reshape(-1), r=np.eye(3).reshape(-1), p=P.reshape(-1), binning_x=0,
        binning_y=0, roi=roi)
    return bytes(store.serialize_cdr(message, CAMERA_INFO))


def write_scene_bag(scene: SceneConfig, stream: StreamConfig, path: Path,
                    storage: str = 'sqlite3') -> list[int]:
    """
    Render ``scene`` from ``stream``'s rig and write the camera bag ``path``.

    :return: the frame stamps written, ns.
    :raises BagError: if ``path`` exists.
    """
    obj = make_object(scene.family, scene.seed)
    cameras = scene_cameras(scene, stream)
    topics = {}
    for camera in stream.cameras:
        topics[info_topic(camera)] = CAMERA_INFO
        topics[image_topic(camera)] = IMAGE
    sensor_qos = dict.fromkeys(topics, qos(reliable=False, depth=5))
    stamps = scene.stamps()
    with BagWriter(path, storage, topics, sensor_qos) as bag:
        for stamp in stamps:
            with torch.no_grad():
                images = to_uint8(render(obj, cameras, scene.time_of(stamp)).rgb)  # (V, H, W, 3)
            for v, camera in enumerate(stream.cameras):
                frame_id = f'{camera}_optical_frame'
                bag.write(info_topic(camera), stamp, camera_info_cdr(
                    cameras.K[v].numpy(), scene.size, scene.size, stamp, frame_id))
                bag.write(image_topic(camera), stamp, encode_image_cdr(images[v], stamp,
                                                                       frame_id))
    return stamps
