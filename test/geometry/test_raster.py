"""Tests for lim_ros.geometry.raster: a textured quad in front of a camera."""

from lim_ros.cameras import Cameras, look_at
from lim_ros.errors import ShapeError
from lim_ros.geometry.raster import render_textured
import numpy as np
import pytest
import torch

SIZE = 64


def camera() -> Cameras:
    k = torch.tensor([[[SIZE, 0.0, SIZE / 2], [0.0, SIZE, SIZE / 2], [0.0, 0.0, 1.0]]])
    return Cameras(k, look_at(torch.tensor([[0.0, -3.0, 0.0]])), SIZE, SIZE)


def quad(y: float, half: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return a square (side 2 half) at depth y facing the camera, UVs over [0, 1]^2."""
    vertices = torch.tensor([[-half, y, -half], [half, y, -half], [half, y, half],
                             [-half, y, half]])
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    uvs = torch.tensor([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])
    return vertices, faces, uvs


def test_texture_lands_where_its_uvs_say_and_the_background_is_white():
    vertices, faces, uvs = quad(0.0, 0.5)
    texture = np.zeros((2, 2, 3), np.uint8)
    texture[0] = (255, 0, 0)  # top row: v near 1, the quad's upper half (+z is up)
    texture[1] = (0, 0, 255)
    image = render_textured(vertices, faces, uvs, texture, camera())
    assert (image[0, 0] == 255).all()  # background
    top, bottom = image[SIZE // 2 - 4, SIZE // 2], image[SIZE // 2 + 4, SIZE // 2]
    assert top[0] > 200 and top[2] == 0  # red, shaded by the headlight (facing: full)
    assert bottom[2] > 200 and bottom[0] == 0


def test_the_nearer_surface_hides_the_farther_one():
    near_v, faces, uvs = quad(-1.0, 0.2)
    far_v, _, _ = quad(1.0, 1.0)
    vertices = torch.cat([far_v, near_v])
    faces = torch.cat([faces, faces + 4])
    uvs = torch.cat([uvs * 0.5, uvs * 0.5 + 0.5])  # far: lower-left texel, near: upper-right
    texture = np.zeros((2, 2, 3), np.uint8)
    texture[1, 0] = (0, 255, 0)
    texture[0, 1] = (255, 0, 0)
    image = render_textured(vertices, faces, uvs, texture, camera())
    centre = image[SIZE // 2, SIZE // 2]
    assert centre[0] > 200 and centre[1] == 0


def test_bad_input_is_refused():
    vertices, faces, uvs = quad(0.0, 0.5)
    with pytest.raises(ShapeError, match='texture'):
        render_textured(vertices, faces, uvs, np.zeros((2, 2, 3), np.float32), camera())
    with pytest.raises(ShapeError, match='uvs'):
        render_textured(vertices, faces, uvs[:2], np.zeros((2, 2, 3), np.uint8), camera())
