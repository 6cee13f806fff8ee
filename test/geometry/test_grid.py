"""Tests for lim_ros.geometry.grid: vertex-centred 'ij' grids and chunked evaluation."""

from lim_ros.errors import ConfigError, ShapeError
from lim_ros.geometry import evaluate_on_grid, grid_axis, grid_points, grid_spacing
import pytest
import torch


def _anisotropic(points: torch.Tensor) -> torch.Tensor:
    return points[:, 0] + 2.0 * points[:, 1] + 3.0 * points[:, 2]


def test_axis_is_vertex_centred_and_spans_the_box():
    axis = grid_axis(5, half_size=2.0)
    assert torch.allclose(axis, torch.tensor([-2.0, -1.0, 0.0, 1.0, 2.0]))
    assert grid_spacing(5, 2.0) == pytest.approx(1.0)
    assert grid_spacing(64) == pytest.approx(2.0 / 63.0)


def test_grid_points_shape_order_and_dtype():
    points = grid_points(3)
    assert points.shape == (27, 3)
    assert points.dtype == torch.float32
    # k (z) runs fastest, then j (y), then i (x).
    assert torch.equal(points[0], torch.tensor([-1.0, -1.0, -1.0]))
    assert torch.equal(points[1], torch.tensor([-1.0, -1.0, 0.0]))
    assert torch.equal(points[3], torch.tensor([-1.0, 0.0, -1.0]))
    assert torch.equal(points[9], torch.tensor([0.0, -1.0, -1.0]))
    assert torch.equal(points[-1], torch.tensor([1.0, 1.0, 1.0]))


@pytest.mark.parametrize('chunk', [1000, 7, 65536])
def test_evaluate_on_grid_indexing_matches_grid_points(chunk):
    r = 17
    grid = evaluate_on_grid(_anisotropic, r, half_size=0.5, chunk=chunk)
    assert grid.shape == (r, r, r)
    assert torch.allclose(grid.reshape(-1), _anisotropic(grid_points(r, 0.5)))
    axis = grid_axis(r, 0.5)
    i, j, k = 3, 11, 5
    expected = axis[i] + 2.0 * axis[j] + 3.0 * axis[k]
    assert float(grid[i, j, k]) == pytest.approx(float(expected))
    # Steps along each index change the value by 1, 2 and 3 spacings.
    step = grid_spacing(r, 0.5)
    assert float(grid[i + 1, j, k] - grid[i, j, k]) == pytest.approx(step, abs=1e-6)
    assert float(grid[i, j + 1, k] - grid[i, j, k]) == pytest.approx(2 * step, abs=1e-6)
    assert float(grid[i, j, k + 1] - grid[i, j, k]) == pytest.approx(3 * step, abs=1e-6)


def test_evaluate_on_grid_runs_without_gradients_in_chunks():
    layer = torch.nn.Linear(3, 1)
    calls = []

    def model(points: torch.Tensor) -> torch.Tensor:
        calls.append(points.shape[0])
        return layer(points)[:, 0]

    grid = evaluate_on_grid(model, 10, chunk=300)
    assert not grid.requires_grad
    assert sum(calls) == 1000
    assert max(calls) == 300


def test_evaluate_on_grid_rejects_a_wrong_output_shape():
    with pytest.raises(ShapeError, match='fn'):
        evaluate_on_grid(lambda p: p[:, :, None], 4)
    with pytest.raises(ShapeError, match='fn'):
        evaluate_on_grid(lambda p: p[1:, 0], 4)
    with pytest.raises(ShapeError, match='fn'):
        evaluate_on_grid(lambda p: p.sum().item(), 4)
    with pytest.raises(ShapeError, match='fn'):  # channels that change between chunks
        evaluate_on_grid(lambda p: p[:, :1 + int(p[0, 2] > -1)], 4, chunk=2)


@pytest.mark.parametrize('kwargs, field', [
    ({'resolution': 1}, 'resolution'),
    ({'resolution': 4.0}, 'resolution'),
    ({'resolution': True}, 'resolution'),
    ({'resolution': 4, 'half_size': 0.0}, 'half_size'),
    ({'resolution': 4, 'half_size': float('inf')}, 'half_size'),
    ({'resolution': 4, 'chunk': 0}, 'chunk'),
])
def test_bad_arguments_raise_config_error(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        evaluate_on_grid(_anisotropic, **kwargs)
    if 'chunk' not in kwargs:
        with pytest.raises(ConfigError, match=field):
            grid_points(**kwargs)


def _two_spheres(points: torch.Tensor) -> torch.Tensor:
    """SDF of spheres of radius 0.3 at x = -0.4 and radius 0.12 at x = 0.5 (metres)."""
    a = torch.linalg.vector_norm(points - torch.tensor([-0.4, 0.0, 0.0]), dim=-1) - 0.3
    b = torch.linalg.vector_norm(points - torch.tensor([0.5, 0.1, 0.0]), dim=-1) - 0.12
    return torch.minimum(a, b)


@pytest.mark.parametrize('resolution, coarse', [(64, 16), (65, 17), (48, 24), (33, 12)])
def test_near_surface_grid_is_exact_in_the_band_and_keeps_every_sign(resolution, coarse):
    from lim_ros.geometry.grid import evaluate_near_surface

    calls = []

    def counted(points):
        calls.append(points.shape[0])
        return _two_spheres(points)

    full = evaluate_on_grid(_two_spheres, resolution)
    fast = evaluate_near_surface(counted, resolution, coarse)
    assert torch.equal(full < 0, fast < 0)
    near = full.abs() < 2.0 / (resolution - 1)  # samples next to the surface: exact values
    assert torch.equal(fast[near], full[near])
    assert sum(calls) < 0.5 * resolution**3


def test_near_surface_grid_falls_back_to_the_full_grid():
    from lim_ros.geometry.grid import evaluate_near_surface

    full = evaluate_on_grid(_two_spheres, 16)
    assert torch.equal(evaluate_near_surface(_two_spheres, 16, 16), full)


def test_near_surface_grid_misses_parts_thinner_than_a_coarse_cell():
    """The documented limit: no coarse sample inside the small sphere, so it is lost."""
    from lim_ros.geometry.grid import evaluate_near_surface

    fast = evaluate_near_surface(_two_spheres, 33, 4)  # coarse spacing 0.67 m > 0.24 m
    assert not bool((fast[24:, :, :] < 0).any())


def _sphere_with_position(points: torch.Tensor) -> torch.Tensor:
    """(N, 4): the two spheres' SDF, then the point itself (a field that the SDF locates)."""
    return torch.cat([_two_spheres(points)[:, None], points], dim=-1)


def test_near_surface_grid_carries_channels_evaluated_where_the_first_one_is():
    from lim_ros.geometry.grid import evaluate_near_surface

    full = evaluate_on_grid(_sphere_with_position, 48)
    fast = evaluate_near_surface(_sphere_with_position, 48, 12)
    assert fast.shape == (48, 48, 48, 4)
    assert torch.allclose(fast[..., 0], evaluate_near_surface(_two_spheres, 48, 12), atol=1e-6)
    near = full[..., 0].abs() < 2.0 / 47
    assert torch.equal(fast[near], full[near])
    # away from the band the position channels are the coarse grid's, upsampled: the same
    assert torch.allclose(fast[..., 1:], full[..., 1:], atol=1e-5)


def test_sample_grid_reads_nodes_exactly_and_interpolates_linearly_between():
    from lim_ros.geometry.grid import sample_grid

    grid = evaluate_on_grid(_sphere_with_position, 9, half_size=2.0)
    nodes = grid_points(9, 2.0)
    assert torch.allclose(sample_grid(grid, nodes, 2.0), grid.reshape(-1, 4), atol=1e-6)
    inside = torch.rand(100, 3, generator=torch.Generator().manual_seed(0)) * 3.0 - 1.5
    assert torch.allclose(sample_grid(grid, inside, 2.0)[:, 1:], inside, atol=1e-5)
    assert sample_grid(grid[..., 0], inside, 2.0).shape == (100,)
    outside = torch.tensor([[5.0, 0.0, 0.0]])  # beyond the box: the nearest border value
    assert torch.allclose(sample_grid(grid, outside, 2.0)[0, 1:], torch.tensor([2.0, 0.0, 0.0]))
    points = inside.clone().requires_grad_(True)
    sample_grid(grid, points, 2.0)[:, 1].sum().backward()
    assert torch.allclose(points.grad, torch.tensor([1.0, 0.0, 0.0]).expand(100, 3), atol=1e-5)
