"""Tests for lim_ros.geometry.uv_atlas: xatlas charts of a sphere."""

from lim_ros.errors import ShapeError
from lim_ros.geometry import evaluate_on_grid, extract_mesh, Mesh
from lim_ros.geometry.uv_atlas import unwrap, UVAtlas
import pytest
import torch


@pytest.fixture(scope='module')
def sphere() -> Mesh:
    return extract_mesh(evaluate_on_grid(lambda p: p.norm(dim=-1) - 0.5, 20))


def test_atlas_copies_every_vertex_and_keeps_the_triangles(sphere):
    atlas = unwrap(sphere)
    assert atlas.num_vertices >= sphere.num_vertices  # seams split vertices
    assert set(atlas.source.tolist()) == set(range(sphere.num_vertices))
    assert torch.equal(atlas.source[atlas.faces], sphere.faces)  # same triangles, same winding
    assert float(atlas.uvs.min()) >= 0.0 and float(atlas.uvs.max()) <= 1.0
    assert torch.equal(atlas.expand(sphere.vertices), sphere.vertices[atlas.source])


def test_collapse_undoes_expand_so_each_mesh_vertex_counts_once(sphere):
    atlas = unwrap(sphere)
    assert atlas.num_vertices > sphere.num_vertices  # the sphere has seams
    assert torch.equal(atlas.collapse(atlas.expand(sphere.vertices)), sphere.vertices)
    colours = torch.rand(sphere.num_vertices, 3)
    assert torch.equal(atlas.collapse(atlas.expand(colours)), colours)


def test_collapse_refuses_values_of_another_atlas_and_unreferenced_vertices(sphere):
    atlas = unwrap(sphere)
    with pytest.raises(ShapeError, match='atlas_vertices'):
        atlas.collapse(torch.zeros(atlas.num_vertices + 1, 3))
    gap = UVAtlas(torch.tensor([0, 2, 2]), torch.tensor([[0, 1, 2]]), torch.zeros(3, 2))
    with pytest.raises(ShapeError, match='no copy'):
        gap.collapse(torch.zeros(3, 3))


def test_charts_do_not_overlap(sphere):
    atlas = unwrap(sphere)
    a, b, c = atlas.uvs[atlas.faces].double().unbind(dim=1)
    cross = (b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0]
    # the charts' total UV area cannot exceed the unit square when nothing overlaps
    assert 0.3 < float(cross.abs().sum() / 2) <= 1.0


def test_bad_input_is_refused(sphere):
    with pytest.raises(ShapeError, match='mesh'):
        unwrap(sphere.vertices)
    with pytest.raises(ShapeError, match='at least one face'):
        unwrap(Mesh(sphere.vertices, torch.zeros(0, 3, dtype=torch.int64)))
    with pytest.raises(ShapeError, match='uvs'):
        UVAtlas(torch.zeros(4, dtype=torch.int64), torch.zeros(1, 3, dtype=torch.int64),
                torch.zeros(3, 2))
    with pytest.raises(ShapeError, match='faces'):
        UVAtlas(torch.zeros(4, dtype=torch.int64), torch.full((1, 3), 4), torch.zeros(4, 2))
