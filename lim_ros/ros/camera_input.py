"""
One camera's subscriptions: its images and CameraInfo, converted to `CameraFrame`.

Topics are relative (``<camera>/image_raw`` or ``<camera>/image_raw/compressed``, and
``<camera>/camera_info``), so they follow the node's namespace and can be remapped. Images
are decoded by `lim_ros.wire` (no cv_bridge). The intrinsics are CameraInfo's ``k``; the
images must be rectified already (distortion empty or all zeros) and the CameraInfo must
describe the image's size. Each callback only converts and hands over: a good frame goes to
``on_frame(camera, frame)``, a refused one to ``on_error(kind, topic, error)``.
"""

from collections.abc import Callable

from lim_ros.errors import LimError, ShapeError
from lim_ros.stream.synchronizer import CameraFrame
from lim_ros.wire import decode_compressed, decode_image, stamp_to_ns
import numpy as np
from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, CompressedImage, Image
import torch

FrameHandler = Callable[[str, CameraFrame], None]
ErrorHandler = Callable[[str, str, Exception], None]


def image_array(msg: Image | CompressedImage) -> np.ndarray:
    """Return the (H, W, 3) uint8 RGB pixels of an Image or CompressedImage message."""
    if isinstance(msg, CompressedImage):
        return decode_compressed(msg.format, msg.data)
    return decode_image(msg.encoding, msg.height, msg.width, msg.step, msg.data,
                        msg.is_bigendian)


def intrinsics(info: CameraInfo, height: int, width: int) -> torch.Tensor:
    """
    Return K (3, 3) float32 from ``info`` for an image of ``height`` x ``width`` px.

    :raises ShapeError: if ``info`` describes another image size, has a non-zero
        distortion (the images must be rectified first) or an unusable K.
    """
    if (info.height, info.width) != (height, width):
        raise ShapeError(f'camera_info: expected the image size {height}x{width}, got '
                         f'{info.height}x{info.width}')
    distortion = np.asarray(info.d, dtype=np.float64)
    if distortion.size and not (distortion == 0.0).all():
        raise ShapeError(f'camera_info: expected rectified images (distortion empty or all '
                         f'zeros), got {info.distortion_model} d={distortion.tolist()}: rectify '
                         'first (e.g. image_proc)')
    K = np.asarray(info.k, dtype=np.float64).reshape(3, 3)
    if not np.isfinite(K).all() or K[0, 0] <= 0.0 or K[1, 1] <= 0.0 or K[2, 2] != 1.0 \
            or (K[1, 0], K[2, 0], K[2, 1]) != (0.0, 0.0, 0.0):
        raise ShapeError(f'camera_info: expected k = [fx 0 cx; 0 fy cy; 0 0 1] with fx, fy > 0, '
                         f'got {K.round(6).tolist()}')
    return torch.from_numpy(K).float()


class CameraInput:
    """The image and CameraInfo subscriptions of one camera; see the module docstring."""

    def __init__(self, node: Node, camera: str, compressed: bool, qos: QoSProfile,
                 group: CallbackGroup, on_frame: FrameHandler, on_error: ErrorHandler) -> None:
        """Subscribe to ``camera``'s topics on ``node``."""
        self.camera = camera
        self.info: CameraInfo | None = None
        self._on_frame, self._on_error = on_frame, on_error
        kind, suffix = (CompressedImage, '/compressed') if compressed else (Image, '')
        self.image_topic = f'{camera}/image_raw{suffix}'
        self.info_topic = f'{camera}/camera_info'
        self._subscriptions = [
            node.create_subscription(kind, self.image_topic, self._on_image, qos,
                                     callback_group=group),
            node.create_subscription(CameraInfo, self.info_topic, self._on_info, qos,
                                     callback_group=group),
        ]

    @property
    def frame_id(self) -> str:
        """Return the optical frame named by the latest CameraInfo ('' before one arrived)."""
        return self.info.header.frame_id if self.info is not None else ''

    def _on_info(self, msg: CameraInfo) -> None:
        self.info = msg

    def _on_image(self, msg: Image | CompressedImage) -> None:
        kind, topic = 'stamp', self.image_topic
        try:
            stamp = stamp_to_ns(msg.header.stamp.sec, msg.header.stamp.nanosec)
            kind = 'bad_image'
            image = image_array(msg)
            kind, topic = 'camera_info_missing', self.info_topic
            if self.info is None:
                raise ShapeError(f'camera_info: none received on {self.info_topic} yet, so '
                                 f'the image on {self.image_topic} is dropped')
            kind = 'camera_info_mismatch'
            K = intrinsics(self.info, *image.shape[:2])
        except LimError as e:
            self._on_error(kind, topic, e)
            return
        except Exception as e:  # a bug, not bad input: counted as internal, with its traceback
            self._on_error('internal', topic, e)
            return
        self._on_frame(self.camera, CameraFrame(stamp, image, K))
