"""
Camera messages to arrays: the pixels of an Image or CompressedImage, and K from CameraInfo.

Duck-typed on the message fields, so rclpy messages (the node) and rosbags messages (the bag
tool) go through the same checks. Images come out as (H, W, 3) uint8 RGB; K as (3, 3)
float32, pixels. The images must be rectified already: a CameraInfo with a non-zero
distortion is refused, as is one describing another image size.
"""

from typing import Any

from lim_ros.errors import ShapeError
from lim_ros.wire.image import decode_compressed, decode_image
import numpy as np
import torch


def image_pixels(message: Any) -> np.ndarray:
    """Return the (H, W, 3) uint8 RGB pixels of a sensor_msgs Image or CompressedImage."""
    if hasattr(message, 'encoding'):
        return decode_image(message.encoding, message.height, message.width, message.step,
                            message.data, message.is_bigendian)
    return decode_compressed(message.format, message.data)


def camera_intrinsics(info: Any, height: int, width: int) -> torch.Tensor:
    """
    Return K (3, 3) float32 from a sensor_msgs/CameraInfo, for an image of height x width px.

    :raises ShapeError: if ``info`` describes another image size, has a non-zero distortion
        (the images must be rectified first) or an unusable K.
    """
    if (int(info.height), int(info.width)) != (height, width):
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
    return torch.tensor(K, dtype=torch.float32)  # a copy: info.k may be read-only
