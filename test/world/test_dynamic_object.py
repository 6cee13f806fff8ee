"""Tests of a dynamic object's ground truth: SDF, occupancy, colour, canonical positions."""

from lim_ros.errors import ShapeError
from lim_ros.world.families import make_object
import pytest
import torch
from world.sphere import moving_sphere

VELOCITY = (0.2, -0.1, 0.05)


def test_moving_sphere_sdf_is_exact():
    sphere = moving_sphere(0.3, VELOCITY)
    points = torch.randn(200, 3, generator=torch.Generator().manual_seed(0)) * 0.5
    t = 1.5
    centre = torch.tensor(VELOCITY) * t
    expected = (points - centre).norm(dim=-1) - 0.3
    assert torch.allclose(sphere.sdf(points, t), expected, atol=1e-5)
    assert torch.equal(sphere.occupancy(points, t), expected < 0)


def test_moving_sphere_canonical_is_the_position_at_reference_time():
    sphere = moving_sphere(0.3, VELOCITY)
    g = torch.Generator().manual_seed(1)
    surface = sphere.surface_samples(2.0, 500, g)
    shift = torch.tensor(VELOCITY) * 2.0
    assert torch.allclose(surface.canonical, surface.points - shift, atol=1e-5)
    assert torch.allclose(sphere.canonical(surface.points, 2.0, t_ref=1.0),
                          surface.points - shift / 2, atol=1e-5)
    # normals of a sphere point away from its centre
    radial = (surface.points - shift) / 0.3
    assert torch.allclose(surface.normals, radial, atol=1e-3)


@pytest.mark.parametrize('family', ['humanoid', 'worm', 'starfish'])
def test_surface_samples_are_on_the_surface_and_texture_moves_with_it(family):
    obj = make_object(family, 3)
    g = torch.Generator().manual_seed(0)
    t, t_ref = 1.3, 0.4
    surface = obj.surface_samples(t, 1500, g, t_ref=t_ref)
    assert obj.sdf(surface.points, t).abs().max() < 1e-4
    # the same material point at t_ref is on its part's surface: on the object's surface, or
    # covered by another part that has moved over it, never outside
    sdf_ref = obj.sdf(surface.canonical, t_ref)
    assert sdf_ref.max() < 1e-4
    assert (sdf_ref.abs() < 1e-4).float().mean() > 0.9
    visible = sdf_ref.abs() < 1e-4
    same = (obj.colour(surface.canonical, t_ref) - surface.colours).abs().max(dim=-1).values
    assert (same[visible] < 1e-3).float().mean() > 0.98
    back = obj.canonical(surface.points, t, t_ref)
    assert ((back - surface.canonical).norm(dim=-1) < 1e-3).float().mean() > 0.98
    assert (surface.canonical - surface.points).norm(dim=-1).max() > 0.01  # it did move


def test_occupancy_agrees_with_renderable_volume_inside_and_out():
    obj = make_object('blob', 0)
    surface = obj.surface_samples(0.5, 500, torch.Generator().manual_seed(0))
    inside = surface.points - 0.01 * surface.normals
    outside = surface.points + 0.01 * surface.normals
    assert obj.occupancy(inside, 0.5).float().mean() > 0.97
    assert (~obj.occupancy(outside, 0.5)).float().mean() > 0.97


def test_bad_points_raise_shape_error_naming_them():
    obj = moving_sphere(0.3, VELOCITY)
    with pytest.raises(ShapeError, match='points'):
        obj.sdf(torch.zeros(10, 2), 0.0)
    with pytest.raises(ShapeError, match='NaN'):
        obj.sdf(torch.full((3, 3), float('nan')), 0.0)
    with pytest.raises(ShapeError, match='n:'):
        obj.surface_samples(0.0, 0, torch.Generator())


def test_chord_motion_matches_the_object_at_both_ends_and_not_between():
    obj = make_object('humanoid', 5)
    chord = obj.chord_motion(1.0, 2.0)
    points = torch.rand(4000, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    for t in (1.0, 2.0):
        assert torch.allclose(chord.sdf(points, t), obj.sdf(points, t), atol=1e-5)
    # the humanoid's joints swing at up to 0.8 Hz: half-way, the chord is off the true pose
    half_way = (chord.sdf(points, 1.5) - obj.sdf(points, 1.5)).abs()
    assert half_way.max() > 0.02


def test_spline_motion_matches_the_object_at_both_ends_and_nears_it_between():
    obj = make_object('humanoid', 5)
    spline, chord = obj.spline_motion(1.0, 1.25), obj.chord_motion(1.0, 1.25)
    points = torch.rand(4000, 3, generator=torch.Generator().manual_seed(0)) * 2 - 1
    for t in (1.0, 1.25):
        assert torch.allclose(spline.sdf(points, t), obj.sdf(points, t), atol=1e-5)
    # on a gap short against the joints' periods, the outer keyframes pin the curve
    miss = {name: (moved.sdf(points, 1.125) - obj.sdf(points, 1.125)).abs().mean()
            for name, moved in (('spline', spline), ('chord', chord))}
    assert miss['spline'] < 0.5 * miss['chord']


@pytest.mark.parametrize('t', [0.0, 0.7])
def test_part_at_names_the_part_of_surface_samples(t):
    obj = make_object('quadruped', 5)
    samples = obj.surface_samples(t, 500, torch.Generator().manual_seed(2))
    found = obj.part_at(samples.points, t)
    assert found.shape == samples.part.shape and found.dtype == torch.long
    # a sample where two parts touch may be as near the other one
    assert float((found == samples.part).double().mean()) > 0.95
    assert len(torch.unique(found)) == obj.num_parts
