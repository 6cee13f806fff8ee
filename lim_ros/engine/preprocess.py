"""
Camera images → the LRM's input: centre square crop, resize, intrinsics moved along.

Convention: images are (V, H, W, 3) RGB uint8 as cameras deliver them; the model takes
(V, 3, S, S) float in [0, 1]. Pixel (u, v) covers [u, u+1) x [v, v+1) (as in
`lim_ros.cameras`), so cropping at (x0, y0) and scaling by s maps image coordinates as
``u' = s (u - x0)``: ``fx' = s fx``, ``cx' = s (cx - x0)``, and the same for y.
"""

from lim_ros.cameras import Cameras
from lim_ros.errors import ShapeError
from lim_ros.wire.image import MAX_IMAGE_SIDE  # the camera decoders refuse larger ones too
import numpy as np
import torch
import torch.nn.functional as F


def check_images(images: np.ndarray) -> None:
    """Raise ShapeError unless ``images`` is a non-empty (V, H, W, 3) uint8 array of sane size."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8:
        got = images.dtype if isinstance(images, np.ndarray) else type(images).__name__
        raise ShapeError(f'images: expected a uint8 numpy array (V, H, W, 3), got {got}')
    if images.ndim != 4 or images.shape[-1] != 3:
        raise ShapeError(f'images: expected shape (V, H, W, 3), got {images.shape}')
    v, h, w, _ = images.shape
    if v == 0 or h == 0 or w == 0:
        raise ShapeError(f'images: expected at least one non-empty view, got shape {images.shape}')
    if max(h, w) > MAX_IMAGE_SIDE:
        raise ShapeError(f'images: expected sides of at most {MAX_IMAGE_SIDE} px, got {h}x{w}')


def crop_and_resize(
    images: np.ndarray, K: torch.Tensor, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return views (V, 3, size, size) float32 in [0, 1] and their intrinsics (V, 3, 3).

    The largest centred square of each image is resized (bilinear, antialiased) to ``size``.
    """
    check_images(images)
    v, h, w, _ = images.shape
    if not isinstance(K, torch.Tensor) or tuple(K.shape) != (v, 3, 3):
        got = tuple(K.shape) if isinstance(K, torch.Tensor) else type(K).__name__
        raise ShapeError(f'K: expected intrinsics of shape ({v}, 3, 3), got {got}')
    if not bool(torch.isfinite(K).all()) or bool((K[:, 0, 0] <= 0).any()) \
            or bool((K[:, 1, 1] <= 0).any()):
        raise ShapeError('K: expected finite intrinsics with positive focal lengths '
                         f'fx, fy, got {K[:, 0, 0].tolist()}, {K[:, 1, 1].tolist()}')
    side = min(h, w)
    x0, y0 = (w - side) // 2, (h - side) // 2
    square = torch.from_numpy(np.ascontiguousarray(images[:, y0:y0 + side, x0:x0 + side]))
    views = square.permute(0, 3, 1, 2).float() / 255.0
    if side != size:
        views = F.interpolate(views, size=(size, size), mode='bilinear', align_corners=False,
                              antialias=True).clamp(0.0, 1.0)
    scale = size / side
    K_out = K.double().clone()
    K_out[:, 0, 2] -= x0
    K_out[:, 1, 2] -= y0
    K_out[:, :2] *= scale
    return views, K_out.float()


def model_inputs(
    images: np.ndarray, cameras: Cameras, size: int
) -> tuple[torch.Tensor, Cameras]:
    """Crop and resize ``images`` to the model's ``size``; return views and matching cameras."""
    if not isinstance(cameras, Cameras):
        raise ShapeError(f'cameras: expected Cameras, got {type(cameras).__name__}')
    check_images(images)
    if (cameras.height, cameras.width) != images.shape[1:3] or len(cameras) != images.shape[0]:
        raise ShapeError(f'cameras: expected {images.shape[0]} cameras of '
                         f'{images.shape[1]}x{images.shape[2]} px (the images), got '
                         f'{len(cameras)} of {cameras.height}x{cameras.width}')
    rotation = cameras.world_T_cam[:, :3, :3].double()
    error = (rotation.transpose(1, 2) @ rotation - torch.eye(3, dtype=rotation.dtype)).abs()
    if float(error.amax()) > 1e-3 or bool((torch.linalg.det(rotation) < 0).any()):
        raise ShapeError('world_T_cam: expected rigid poses (orthonormal rotation, det +1), '
                         f'got a rotation off by {float(error.amax()):.3g}')
    views, K = crop_and_resize(images, cameras.K, size)
    return views, Cameras(K, cameras.world_T_cam.float(), size, size)
