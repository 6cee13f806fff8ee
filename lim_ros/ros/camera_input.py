"""
One camera's subscriptions: its images and CameraInfo, converted to `CameraFrame`.

Topics are relative (``<camera>/image_raw`` or ``<camera>/image_raw/compressed``, and
``<camera>/camera_info``), so they follow the node's namespace and can be remapped. Images are
decoded and CameraInfo checked by `lim_ros.wire.camera` (no cv_bridge): the images must be
rectified already and the CameraInfo must describe the image's size. Each callback only
converts and hands over: a good frame goes to ``on_frame(camera, frame)``, a refused one to
``on_error(kind, topic, error)``.
"""

from collections.abc import Callable

from lim_ros.errors import LimError, ShapeError
from lim_ros.stream.synchronizer import CameraFrame
from lim_ros.wire import stamp_to_ns
from lim_ros.wire.camera import camera_intrinsics, image_pixels
from rclpy.callback_groups import CallbackGroup
from rclpy.node import Node
from rclpy.qos import QoSProfile
from sensor_msgs.msg import CameraInfo, CompressedImage, Image

FrameHandler = Callable[[str, CameraFrame], None]
ErrorHandler = Callable[[str, str, Exception], None]


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
            image = image_pixels(msg)
            kind, topic = 'camera_info_missing', self.info_topic
            if self.info is None:
                raise ShapeError(f'camera_info: none received on {self.info_topic} yet, so '
                                 f'the image on {self.image_topic} is dropped')
            kind = 'camera_info_mismatch'
            K = camera_intrinsics(self.info, *image.shape[:2])
        except LimError as e:
            self._on_error(kind, topic, e)
            return
        except Exception as e:  # a bug, not bad input: counted as internal, with its traceback
            self._on_error('internal', topic, e)
            return
        self._on_frame(self.camera, CameraFrame(stamp, image, K))
