"""Tests for lim_ros.geometry.texture_bake: texels take the colour of their surface point."""

from lim_ros.errors import ConfigError, ShapeError
from lim_ros.geometry import evaluate_on_grid, extract_mesh
from lim_ros.geometry.texture_bake import bake_texture, barycentric, checker, face_index_map
from lim_ros.geometry.uv_atlas import unwrap
import numpy as np
import pytest
import torch


@pytest.fixture(scope='module')
def sphere_atlas():
    mesh = extract_mesh(evaluate_on_grid(lambda p: p.norm(dim=-1) - 0.5, 20))
    atlas = unwrap(mesh)
    return atlas, atlas.expand(mesh.vertices)


def smooth_colour(points: torch.Tensor) -> torch.Tensor:
    return (points + 0.5).clamp(0.0, 1.0)


def test_texture_at_each_vertex_uv_is_the_colour_at_the_vertex(sphere_atlas):
    atlas, vertices = sphere_atlas
    size = 256
    texture = bake_texture(atlas, vertices, smooth_colour, size)
    assert texture.shape == (size, size, 3) and texture.dtype == np.uint8
    col = (atlas.uvs[:, 0] * size).long().clamp(max=size - 1)
    row = ((1.0 - atlas.uvs[:, 1]) * size).long().clamp(max=size - 1)
    looked_up = torch.from_numpy(texture[row.numpy(), col.numpy()]).float() / 255.0
    error = (looked_up - smooth_colour(vertices)).abs()
    assert float(error.mean()) < 0.02  # a texel is about one 256th of a chart away


def test_charts_cover_the_texture_and_dilation_fills_their_border(sphere_atlas):
    atlas, vertices = sphere_atlas
    covered = face_index_map(atlas, 128) >= 0
    assert 0.3 < covered.mean() < 1.0
    texture = bake_texture(atlas, vertices, lambda p: torch.ones_like(p), 128, dilate=2)
    white = (texture == 255).all(axis=-1)
    assert white[covered].all() and white.sum() > covered.sum()


def test_barycentric_of_corners_centre_and_outside_points():
    triangle = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    points = np.array([[0.0, 0.0], [1.0, 0.0], [1 / 3, 1 / 3], [2.0, 2.0]])
    weights = barycentric(points, np.repeat(triangle[None], 4, axis=0))
    assert np.allclose(weights[:3], [[1, 0, 0], [0, 1, 0], [1 / 3, 1 / 3, 1 / 3]])
    assert np.allclose(weights[3].sum(), 1.0) and (weights[3] >= 0).all()


def test_checker_alternates_between_neighbouring_cells():
    colour = checker(0.5)
    rgb = colour(torch.tensor([[0.1, 0.1, 0.1], [0.6, 0.1, 0.1], [0.6, 0.6, 0.1]]))
    assert torch.equal(rgb[0], rgb[2]) and not torch.equal(rgb[0], rgb[1])


def test_bad_input_is_refused(sphere_atlas):
    atlas, vertices = sphere_atlas
    with pytest.raises(ConfigError, match='texture_size'):
        bake_texture(atlas, vertices, smooth_colour, 4)
    with pytest.raises(ShapeError, match='vertices'):
        bake_texture(atlas, vertices[:3], smooth_colour, 64)
    with pytest.raises(ShapeError, match='colour output'):
        bake_texture(atlas, vertices, lambda p: p[:, :2], 64)
    with pytest.raises(ConfigError, match='cell'):
        checker(0.0)
