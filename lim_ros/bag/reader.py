"""
Camera frames out of a recorded rosbag2 (sqlite3 or MCAP), decoded with `lim_ros.wire`.

Images are (H, W, 3) uint8 RGB, stamped with their header stamp (ROS time, ns); each takes the
intrinsics K (3, 3, pixels) of the latest CameraInfo of its camera read before it in the bag,
checked as the node checks them (`lim_ros.wire.camera`: rectified, a usable K). Bad messages
(an image that does not decode, an image before any CameraInfo, invalid intrinsics, data that
does not deserialise) are counted in an `ErrorTally` and skipped.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lim_ros.bag.summary import ErrorTally
from lim_ros.bag.topics import (
    CAMERA_INFO,
    camera_topic_roles,
    COMPRESSED_IMAGE,
    IMAGE,
    image_topic,
    info_topic,
)
from lim_ros.errors import BagError, LimError
from lim_ros.stream.synchronizer import CameraFrame
from lim_ros.wire import stamp_to_ns
from lim_ros.wire.camera import camera_intrinsics, image_pixels
from rosbags.highlevel import AnyReader, AnyReaderError
from rosbags.typesys import get_typestore, Stores
import torch

ROLE_TYPES = {'image': IMAGE, 'compressed': COMPRESSED_IMAGE, 'info': CAMERA_INFO}


@dataclass(frozen=True)
class Intrinsics:
    """A camera's latest CameraInfo: K (3, 3) pixels and the image size it is for (0: any)."""

    K: torch.Tensor
    height: int
    width: int


@contextmanager
def open_bag(path: Path) -> Iterator[AnyReader]:
    """
    Open the rosbag2 directory (or MCAP / sqlite3 file's directory) ``path`` for reading.

    Bags without message definitions (recorded before ROS 2 Iron) are read with Jazzy's types.

    :raises BagError: if ``path`` is missing or is not a readable rosbag2.
    """
    path = Path(path)
    if not path.exists():
        raise BagError(f'{path}: no such bag')
    try:
        reader = AnyReader([path], default_typestore=get_typestore(Stores.ROS2_JAZZY))
        reader.open()
    except (AnyReaderError, OSError, ValueError) as error:
        raise BagError(f'{path}: not a readable rosbag2 (sqlite3 or mcap): {error}') from error
    try:
        yield reader
    finally:
        reader.close()


def camera_frames(reader: AnyReader, cameras: list[str], errors: ErrorTally,
                  start_ns: int | None = None,
                  stop_ns: int | None = None) -> Iterator[tuple[str, CameraFrame]]:
    """
    Yield ``(camera, frame)`` for every usable image of ``cameras``, in bag order.

    ``start_ns`` / ``stop_ns`` bound the bag timestamps of the images used (CameraInfo before
    ``start_ns`` still counts). Bad messages are counted in ``errors``.

    :raises BagError: if the bag has no image topic of any of ``cameras``.
    """
    roles = camera_topic_roles(cameras)
    connections = [c for c in reader.connections
                   if c.topic in roles and c.msgtype == ROLE_TYPES[roles[c.topic][1]]]
    if not any(roles[c.topic][1] != 'info' for c in connections):
        found = sorted({f'{c.topic} ({c.msgtype})' for c in reader.connections})
        raise BagError(f'{reader.paths[0]}: no camera images: expected {IMAGE} on '
                       f'{image_topic(cameras[0])} (or {COMPRESSED_IMAGE} on .../compressed) '
                       f'and {CAMERA_INFO} on {info_topic(cameras[0])} for each of the cameras '
                       f'{cameras}; the bag has {found or "no topics"}')
    latest: dict[str, Intrinsics] = {}
    for connection, timestamp, raw in reader.messages(connections=connections, stop=stop_ns):
        camera, role = roles[connection.topic]
        if role != 'info' and start_ns is not None and timestamp < start_ns:
            continue
        where = f'{connection.topic} at {timestamp} ns'
        try:
            message: Any = reader.deserialize(raw, connection.msgtype)  # a ROS message
        except Exception as error:  # rosbags raises several kinds on bad bytes
            errors.add('bad_message', f'{where}: {error}')
            continue
        if role == 'info':
            try:
                height, width = int(message.height), int(message.width)
                latest[camera] = Intrinsics(camera_intrinsics(message, height, width), height,
                                            width)
            except LimError as error:
                errors.add('bad_camera_info', f'{where}: {error}')
            continue
        try:
            stamp = stamp_to_ns(message.header.stamp.sec, message.header.stamp.nanosec)
            image = image_pixels(message)
        except LimError as error:
            errors.add('bad_image', f'{where}: {error}')
            continue
        info = latest.get(camera)
        if info is None:
            errors.add('no_camera_info', f'{where}: no CameraInfo on {info_topic(camera)} yet')
            continue
        if info.height and info.width and image.shape[:2] != (info.height, info.width):
            errors.add('bad_camera_info', f'{where}: image is {image.shape[0]}x{image.shape[1]}'
                       f' px, its CameraInfo {info.height}x{info.width}')
            continue
        yield camera, CameraFrame(stamp, image, info.K)
