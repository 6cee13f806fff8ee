"""Tests for lim_ros.geometry.mesh: marching cubes on a sphere SDF, orientation, validation."""

import math

from lim_ros.errors import ShapeError
from lim_ros.geometry import evaluate_on_grid, extract_mesh, grid_spacing, Mesh
import pytest
import torch

RADIUS = 0.6
RESOLUTION = 64


def _sphere_sdf(points: torch.Tensor, centre=(0.0, 0.0, 0.0)) -> torch.Tensor:
    return (points - torch.tensor(centre)).norm(dim=-1) - RADIUS


@pytest.fixture(scope='module')
def sphere() -> Mesh:
    return extract_mesh(evaluate_on_grid(_sphere_sdf, RESOLUTION))


def test_sphere_area_and_volume_match_the_analytic_values(sphere):
    assert sphere.area() == pytest.approx(4.0 * math.pi * RADIUS ** 2, rel=0.02)
    assert sphere.signed_volume() == pytest.approx(4.0 / 3.0 * math.pi * RADIUS ** 3, rel=0.02)


def test_sphere_vertices_lie_on_the_sphere_in_world_coordinates(sphere):
    assert sphere.vertices.dtype == torch.float32
    assert sphere.faces.dtype == torch.int64
    error = (sphere.vertices.norm(dim=-1) - RADIUS).abs()
    assert float(error.max()) < grid_spacing(RESOLUTION)
    # Centred on the origin: the grid's world mapping has no offset.
    assert torch.allclose(sphere.vertices.mean(dim=0), torch.zeros(3), atol=1e-3)


def test_faces_point_outward(sphere):
    assert sphere.signed_volume() > 0.0
    a, b, c = sphere.vertices[sphere.faces].unbind(dim=1)
    centroid = (a + b + c) / 3.0
    outward = (sphere.face_normals().float() * centroid).sum(dim=-1)
    assert bool((outward > 0.0).all())


def test_off_centre_sphere_on_a_smaller_box():
    centre = (0.1, -0.05, 0.2)
    grid = evaluate_on_grid(lambda p: _sphere_sdf(p, centre), 48, half_size=0.9)
    mesh = extract_mesh(grid, half_size=0.9)
    error = ((mesh.vertices - torch.tensor(centre)).norm(dim=-1) - RADIUS).abs()
    assert float(error.max()) < grid_spacing(48, 0.9)
    assert mesh.signed_volume() > 0.0


def test_level_shifts_the_surface():
    grid = evaluate_on_grid(_sphere_sdf, 48)
    mesh = extract_mesh(grid, level=-0.2)  # the sphere of radius 0.4
    assert float((mesh.vertices.norm(dim=-1) - 0.4).abs().max()) < grid_spacing(48)


def test_sample_lies_on_the_surface(sphere):
    points = sphere.sample(2000, torch.Generator().manual_seed(0))
    assert points.shape == (2000, 3)
    assert float((points.norm(dim=-1) - RADIUS).abs().max()) < grid_spacing(RESOLUTION)


@pytest.mark.parametrize('grid', [
    pytest.param(torch.ones(8, 8, 8), id='all-positive'),
    pytest.param(-torch.ones(8, 8, 8), id='all-negative'),
    pytest.param(torch.zeros(8, 8, 8), id='all-on-level'),
])
def test_empty_level_set_raises(grid):
    with pytest.raises(ShapeError, match='sdf_grid'):
        extract_mesh(grid)


@pytest.mark.parametrize('grid', [
    pytest.param(torch.zeros(8, 8, 7), id='not-cubic'),
    pytest.param(torch.zeros(8, 8), id='two-dim'),
    pytest.param(torch.zeros(1, 1, 1), id='too-small'),
    pytest.param(torch.zeros(8, 8, 8, dtype=torch.int64), id='integer'),
])
def test_bad_grid_shapes_raise(grid):
    with pytest.raises(ShapeError, match='sdf_grid'):
        extract_mesh(grid)


def test_nan_grid_raises():
    grid = evaluate_on_grid(_sphere_sdf, 8)
    grid[2, 3, 4] = float('nan')
    with pytest.raises(ShapeError, match='sdf_grid'):
        extract_mesh(grid)


def test_mesh_validation_names_the_field():
    vertices = torch.zeros(3, 3)
    faces = torch.tensor([[0, 1, 2]])
    Mesh(vertices, faces, torch.zeros(3, 3))
    with pytest.raises(ShapeError, match='vertices'):
        Mesh(vertices.double(), faces)
    with pytest.raises(ShapeError, match='vertices'):
        Mesh(torch.zeros(3, 2), faces)
    with pytest.raises(ShapeError, match='faces'):
        Mesh(vertices, faces.int())
    with pytest.raises(ShapeError, match='faces'):
        Mesh(vertices, torch.tensor([[0, 1, 3]]))
    with pytest.raises(ShapeError, match='vertex_colours'):
        Mesh(vertices, faces, torch.zeros(2, 3))
    with pytest.raises(ShapeError, match='vertices'):
        Mesh(torch.full((3, 3), float('nan')), faces)
