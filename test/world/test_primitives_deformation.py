"""Tests of primitive SDFs, surface projection and invertible deformations."""

from lim_ros.world.deformation import deform, N_PARAMS, undeform
from lim_ros.world.primitives import Primitive, primitive_sdf, project_to_surface
import torch


def _sdf(kind, he, rounding, points):
    return primitive_sdf(points[None], torch.tensor([int(kind)]), torch.tensor([he]),
                         torch.tensor([rounding]))[0]


def test_capsule_distances_by_hand():
    # radius 0.1, tips at z = ±0.5: the segment runs over z in [-0.4, 0.4]
    points = torch.tensor([[0.0, 0.0, 0.0], [0.3, 0.0, 0.2], [0.0, 0.0, 0.9]])
    d = _sdf(Primitive.CAPSULE, (0.1, 0.1, 0.5), 0.0, points)
    assert torch.allclose(d, torch.tensor([-0.1, 0.2, 0.4]), atol=1e-6)


def test_rounded_box_distances_by_hand():
    he, r = (0.3, 0.2, 0.1), 0.05
    points = torch.tensor([[0.5, 0.0, 0.0], [0.0, 0.0, 0.0], [0.3 + 0.1, 0.2 + 0.1, 0.0]])
    d = _sdf(Primitive.ROUNDED_BOX, he, r, points)
    corner = (0.1 + 0.05) * 2**0.5 - 0.05  # from the rounded edge's centre line
    assert torch.allclose(d, torch.tensor([0.2, -0.1, corner]), atol=1e-6)


def test_ellipsoid_with_equal_axes_is_a_sphere():
    points = torch.randn(50, 3, generator=torch.Generator().manual_seed(0))
    d = _sdf(Primitive.ELLIPSOID, (0.4, 0.4, 0.4), 0.0, points)
    assert torch.allclose(d, points.norm(dim=-1) - 0.4, atol=1e-5)


def test_projection_lands_on_every_kind_of_surface():
    g = torch.Generator().manual_seed(0)
    kind = torch.tensor([0, 1, 2])
    he = torch.tensor([[0.1, 0.1, 0.4], [0.3, 0.2, 0.1], [0.2, 0.3, 0.25]])
    rounding = torch.tensor([0.0, 0.0, 0.05])
    start = torch.randn(3, 200, 3, generator=g) * 0.3
    surface = project_to_surface(start, kind, he, rounding)
    assert primitive_sdf(surface, kind, he, rounding).abs().max() < 1e-5


def test_undeform_inverts_deform():
    g = torch.Generator().manual_seed(2)
    params = torch.zeros(5, N_PARAMS)
    params[:, :4] = torch.randn(5, 4, generator=g) * 0.5
    params[:, 4] = 0.2
    params[:, 5] = 12.0
    params[:, 6] = torch.rand(5, generator=g) * 6
    rest = torch.randn(5, 300, 3, generator=g) * 0.3
    moved = deform(rest, params)
    assert (moved - rest).abs().max() > 0.05
    assert torch.allclose(undeform(moved, params), rest, atol=1e-5)


def test_zero_parameters_are_the_identity():
    rest = torch.randn(2, 10, 3)
    assert torch.allclose(deform(rest, torch.zeros(2, N_PARAMS)), rest)


def test_projection_works_inside_no_grad():
    with torch.no_grad():
        surface = project_to_surface(torch.ones(1, 5, 3), torch.tensor([1]),
                                     torch.tensor([[0.2, 0.2, 0.2]]), torch.tensor([0.0]))
    assert torch.allclose(surface.norm(dim=-1), torch.full((1, 5), 0.2), atol=1e-5)
