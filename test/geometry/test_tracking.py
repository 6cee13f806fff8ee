"""Tests for lim_ros.geometry.tracking on analytic correspondence fields of a moving sphere."""

import math

from geometry.sphere_motion import RADIUS, rotation_z
from lim_ros.errors import ConfigError, ShapeError
from lim_ros.geometry import evaluate_on_grid, extract_mesh
from lim_ros.geometry.tracking import (
    canonical_search,
    nearest_neighbour_step,
    track_step,
    TrackerConfig,
)
import pytest
import torch


def spinning_sphere(angle: float, shift=(0.0, 0.0, 0.0)):
    """Return the field of a sphere turned by ``angle`` about z, then shifted."""
    rotation, offset = rotation_z(angle), torch.tensor(shift)

    def field(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        rest = (points - offset) @ rotation  # R^T (x - d), row vectors
        return rest.norm(dim=-1) - RADIUS, rest

    return field, rotation, offset


@pytest.fixture(scope='module')
def sphere_vertices() -> torch.Tensor:
    """Marching-cubes vertices of the sphere, projected exactly onto it."""
    mesh = extract_mesh(evaluate_on_grid(lambda p: p.norm(dim=-1) - RADIUS, 24))
    return RADIUS * mesh.vertices / mesh.vertices.norm(dim=-1, keepdim=True)


def test_a_spin_is_followed_where_the_nearest_neighbour_stays_put(sphere_vertices):
    v, cfg = sphere_vertices, TrackerConfig(iterations=8)
    positions, angle = v, 0.0
    for _ in range(5):  # 0.5 rad in steps of 0.1 rad: motion along the surface only
        angle += 0.1
        field, rotation, _ = spinning_sphere(angle)
        step = track_step(field, v, positions, cfg)
        positions = step.positions
    true = v @ rotation.T
    assert float((positions - true).norm(dim=-1).max()) < 1e-3
    assert step.error < 1e-4 and not step.needs_reanchor(cfg)
    baseline = nearest_neighbour_step(v, true)  # the surface did not change: nothing moves
    assert float((baseline - true).norm(dim=-1).mean()) > 0.1


def test_a_translation_and_spin_together_are_followed(sphere_vertices):
    field, rotation, offset = spinning_sphere(0.1, (0.04, -0.02, 0.03))
    step = track_step(field, sphere_vertices, sphere_vertices, TrackerConfig())
    true = sphere_vertices @ rotation.T + offset
    assert torch.allclose(step.positions, true, atol=1e-3)
    assert float(step.sdf.abs().max()) < 1e-4


def test_a_large_spin_in_one_step_needs_the_canonical_search(sphere_vertices):
    field, rotation, _ = spinning_sphere(1.5)  # 86 degrees at once
    true = sphere_vertices @ rotation.T
    cfg = TrackerConfig()
    local = track_step(field, sphere_vertices, sphere_vertices, cfg)
    assert float((local.positions - true).norm(dim=-1).mean()) > 0.05
    surface = extract_mesh(evaluate_on_grid(lambda p: p.norm(dim=-1) - RADIUS, 24)).vertices
    start = canonical_search(field, sphere_vertices, surface)
    assert float((start - true).norm(dim=-1).max()) < 0.1  # within a grid cell or so
    step = track_step(field, sphere_vertices, start, cfg)
    assert float((step.positions - true).norm(dim=-1).max()) < 1e-3


def test_a_lost_correspondence_asks_for_a_new_anchor(sphere_vertices):
    far = torch.full_like(sphere_vertices, 5.0)  # canonical positions no field point has
    field, _, _ = spinning_sphere(0.0)
    cfg = TrackerConfig(iterations=2)
    step = track_step(field, far, sphere_vertices, cfg)
    assert step.lost(cfg) == 1.0 and step.needs_reanchor(cfg)
    assert float(step.positions.abs().max()) <= 1.0  # stays in the unit cube


def test_steps_are_capped(sphere_vertices):
    field, _, _ = spinning_sphere(1.0)
    cfg = TrackerConfig(iterations=1, max_step=0.01)
    step = track_step(field, sphere_vertices, sphere_vertices, cfg)
    moved = (step.positions - sphere_vertices).norm(dim=-1)
    assert float(moved.max()) <= 0.01 + 1e-6


def test_bad_input_is_refused_naming_it(sphere_vertices):
    field, _, _ = spinning_sphere(0.0)
    cfg = TrackerConfig()
    with pytest.raises(ShapeError, match='start'):
        track_step(field, sphere_vertices, sphere_vertices[:5], cfg)
    with pytest.raises(ShapeError, match='anchor_canonical'):
        track_step(field, sphere_vertices[:, :2], sphere_vertices, cfg)
    with pytest.raises(ShapeError, match='start'):
        track_step(field, sphere_vertices, sphere_vertices * math.nan, cfg)
    with pytest.raises(ShapeError, match='field'):
        track_step(lambda p: (p[:, 0], p[:, :2]), sphere_vertices, sphere_vertices, cfg)
    with pytest.raises(ShapeError, match='surface'):
        nearest_neighbour_step(sphere_vertices, torch.zeros(0, 3))
    with pytest.raises(ShapeError, match='surface'):
        canonical_search(field, sphere_vertices, torch.zeros(4, 2))
    with pytest.raises(ConfigError, match='iterations'):
        TrackerConfig(iterations=0)
    with pytest.raises(ConfigError, match='max_step'):
        TrackerConfig(max_step=-1.0)
    with pytest.raises(ConfigError, match='lost_fraction'):
        TrackerConfig(lost_fraction=1.5)
