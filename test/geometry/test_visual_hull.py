"""Tests for lim_ros.geometry.visual_hull: carving a rendered world object from its masks."""

from lim_ros.cameras import Cameras, rig
from lim_ros.errors import ConfigError, ShapeError
from lim_ros.geometry import (
    extract_mesh,
    grid_points,
    visual_hull_colours,
    visual_hull_occupancy,
    visual_hull_sdf_grid,
)
from lim_ros.metrics import chamfer, volumetric_iou
from lim_ros.render.sphere_tracer import render
from lim_ros.world.families import make_object
import pytest
import torch

TIME = 0.5
SIZE = 64


@pytest.fixture(scope='module')
def blob():
    """Return the blob, its 4-view renders, and random points with their true occupancy."""
    obj = make_object('blob', 0)
    cameras = rig(4, SIZE)
    views = render(obj, cameras, TIME)
    points = torch.rand(40000, 3, generator=torch.Generator().manual_seed(0)) * 2.0 - 1.0
    return obj, cameras, views, points, obj.occupancy(points, TIME)


def _first_view(cameras: Cameras) -> Cameras:
    return Cameras(cameras.K[:1], cameras.world_T_cam[:1], cameras.height, cameras.width)


def test_hull_contains_the_object_and_has_a_plausible_iou(blob, record_property):
    obj, cameras, views, points, occupied = blob
    hull = visual_hull_occupancy(views.mask, cameras, points)
    assert hull.dtype == torch.bool and hull.shape == (points.shape[0],)
    contained = float(hull[occupied].float().mean())
    iou = volumetric_iou(hull, occupied)
    record_property('blob_4view_hull_iou', iou)
    print(f'blob, 4 views at {SIZE}^2: hull contains {contained:.4f}, IoU {iou:.3f}')
    assert contained >= 0.99
    assert 0.3 < iou <= 1.0


def test_one_pixel_dilation_loses_no_true_point(blob):
    _, cameras, views, points, occupied = blob
    hull = visual_hull_occupancy(views.mask, cameras, points, dilation=1)
    assert bool(hull[occupied].all())
    assert bool((visual_hull_occupancy(views.mask, cameras, points) <= hull).all())


def test_more_views_carve_more():
    obj = make_object('blob', 0)
    six = rig(6, SIZE)
    masks = render(obj, six, TIME).mask
    points = torch.rand(40000, 3, generator=torch.Generator().manual_seed(1)) * 2.0 - 1.0
    occupied = obj.occupancy(points, TIME)
    hull_six = visual_hull_occupancy(masks, six, points)
    hull_one = visual_hull_occupancy(masks[:1], _first_view(six), points)
    assert bool((hull_six <= hull_one).all())  # an intersection over a superset of views
    iou_six, iou_one = volumetric_iou(hull_six, occupied), volumetric_iou(hull_one, occupied)
    print(f'blob hull IoU: 1 view {iou_one:.3f}, 6 views {iou_six:.3f}')
    assert iou_six >= iou_one


def test_points_outside_every_image_are_empty(blob):
    _, cameras, _, _, _ = blob
    above = torch.tensor([[0.0, 0.0, 5.0], [0.0, 0.0, -40.0]])
    pixels, depth = cameras.project(above)
    inside = (depth > 0) & (pixels >= 0).all(-1) & (pixels[..., 0] < SIZE) \
        & (pixels[..., 1] < SIZE)
    assert not bool(inside.any())
    everything = torch.ones(len(cameras), 1, SIZE, SIZE)
    assert not bool(visual_hull_occupancy(everything, cameras, above).any())
    # The convention bites with one image: full masks still carve to the viewing frustum.
    assert bool(visual_hull_occupancy(everything, cameras, torch.zeros(1, 3)).all())
    nothing = torch.zeros(len(cameras), 1, SIZE, SIZE)
    assert not bool(visual_hull_occupancy(nothing, cameras, torch.zeros(1, 3)).any())


def test_sdf_grid_is_negative_inside_and_meshes_near_the_surface(blob):
    obj, cameras, views, _, _ = blob
    grid = visual_hull_sdf_grid(views.mask, cameras, 48)
    assert grid.shape == (48, 48, 48)
    assert float(grid.max()) <= 0.5 and float(grid.min()) >= -0.5
    raw = visual_hull_sdf_grid(views.mask, cameras, 48, sigma=0.0)
    hull = visual_hull_occupancy(views.mask, cameras, grid_points(48)).reshape(48, 48, 48)
    assert torch.equal(raw < 0, hull)
    mesh = extract_mesh(grid)
    assert mesh.signed_volume() > 0.0
    generator = torch.Generator().manual_seed(0)
    truth = obj.surface_samples(TIME, 4000, generator).points
    # A hull is fatter than the object where no view sees a concavity: a loose bound.
    assert chamfer(mesh.sample(4000, generator), truth).l1 < 0.06


def test_colours_average_the_views_that_see_the_mask(blob):
    _, cameras, views, _, _ = blob
    rgb = torch.arange(len(cameras), dtype=torch.float32)[:, None, None, None].expand(
        -1, 3, SIZE, SIZE)
    centre = torch.zeros(1, 3)
    assert torch.allclose(visual_hull_colours(rgb, views.mask, cameras, centre),
                          torch.full((1, 3), 1.5))
    masks = views.mask.clone()
    masks[[0, 2, 3]] = 0.0  # only view 1 sees the mask there
    assert torch.allclose(visual_hull_colours(rgb, masks, cameras, centre), torch.ones(1, 3))
    masks[:] = 0.0
    unseen = visual_hull_colours(rgb, masks, cameras, centre, fill=0.25)
    assert torch.allclose(unseen, torch.full((1, 3), 0.25))
    real = visual_hull_colours(views.rgb, views.mask, cameras, torch.rand(50, 3) - 0.5)
    assert real.shape == (50, 3) and bool(((real >= 0) & (real <= 1)).all())


def test_bad_inputs_name_the_argument(blob):
    _, cameras, views, points, _ = blob
    with pytest.raises(ShapeError, match='masks'):
        visual_hull_occupancy(views.mask[:3], cameras, points)
    with pytest.raises(ShapeError, match='masks'):
        visual_hull_occupancy(views.mask[:, 0], cameras, points)
    with pytest.raises(ShapeError, match='masks'):
        visual_hull_occupancy(views.mask[..., :32], cameras, points)
    with pytest.raises(ShapeError, match='points'):
        visual_hull_occupancy(views.mask, cameras, points[:, :2])
    with pytest.raises(ShapeError, match='points'):
        visual_hull_occupancy(views.mask, cameras, torch.full((2, 3), float('nan')))
    with pytest.raises(ShapeError, match='cameras'):
        visual_hull_occupancy(views.mask, None, points)
    with pytest.raises(ShapeError, match='rgb'):
        visual_hull_colours(views.rgb[:, :1], views.mask, cameras, points)
    with pytest.raises(ShapeError, match='masks'):
        visual_hull_sdf_grid(views.mask[:2], cameras, 16)
    with pytest.raises(ConfigError, match='dilation'):
        visual_hull_occupancy(views.mask, cameras, points, dilation=-1)
    with pytest.raises(ConfigError, match='sigma'):
        visual_hull_sdf_grid(views.mask, cameras, 16, sigma=-1.0)
    with pytest.raises(ConfigError, match='resolution'):
        visual_hull_sdf_grid(views.mask, cameras, 1)


def test_sdf_grid_from_a_carved_occupancy_equals_the_direct_one():
    from lim_ros.geometry.grid import grid_points
    from lim_ros.geometry.visual_hull import occupancy_sdf_grid

    obj = make_object('blob', 0)
    cams = rig(4, 32)
    masks = render(obj, cams, 0.5).mask
    occupancy = visual_hull_occupancy(masks, cams, grid_points(24)).reshape(24, 24, 24)
    assert torch.equal(occupancy_sdf_grid(occupancy), visual_hull_sdf_grid(masks, cams, 24))
