"""Cropping and resizing camera images moves the intrinsics with them."""

from lim_ros.cameras import rig
from lim_ros.engine.preprocess import crop_and_resize, model_inputs
from lim_ros.errors import ShapeError
import numpy as np
import pytest
import torch


def test_resized_rig_has_the_intrinsics_of_the_smaller_rig():
    images = np.zeros((4, 128, 128, 3), np.uint8)
    views, cameras = model_inputs(images, rig(4, 128), 64)
    assert views.shape == (4, 3, 64, 64)
    assert torch.allclose(cameras.K, rig(4, 64).K, atol=1e-5)


def test_wide_image_is_centre_cropped():
    """A 2:1 image keeps its centre square; a pixel's projection moves by the crop offset."""
    image = np.zeros((1, 40, 80, 3), np.uint8)
    image[0, :, 20:60] = 255  # exactly the centre square
    K = torch.tensor([[[50.0, 0.0, 40.0], [0.0, 50.0, 20.0], [0.0, 0.0, 1.0]]])
    views, K_out = crop_and_resize(image, K, 20)
    assert torch.all(views == 1.0)
    assert torch.allclose(K_out[0], torch.tensor([[25.0, 0.0, 10.0], [0.0, 25.0, 10.0],
                                                  [0.0, 0.0, 1.0]]))


@pytest.mark.parametrize('images, match', [
    (np.zeros((4, 0, 64, 3), np.uint8), 'non-empty'),
    (np.zeros((4, 64, 64, 3), np.float32), 'uint8'),
    (np.zeros((4, 64, 64), np.uint8), 'shape'),
    (np.zeros((1, 9000, 10, 3), np.uint8), 'at most'),
])
def test_bad_images_are_refused(images, match):
    with pytest.raises(ShapeError, match=match):
        crop_and_resize(images, torch.eye(3).repeat(images.shape[0], 1, 1), 32)


def test_non_rigid_pose_is_refused():
    cameras = rig(4, 64)
    pose = cameras.world_T_cam.clone()
    pose[0, :3, :3] *= 2.0
    bad = type(cameras)(cameras.K, pose, 64, 64)
    with pytest.raises(ShapeError, match='world_T_cam'):
        model_inputs(np.zeros((4, 64, 64, 3), np.uint8), bad, 64)


def test_nan_pose_is_refused():
    cameras = rig(4, 64)
    pose = cameras.world_T_cam.clone()
    pose[1, 0, 3] = float('nan')
    with pytest.raises(ShapeError, match='finite'):
        type(cameras)(cameras.K, pose, 64, 64)
