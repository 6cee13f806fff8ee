"""Tests of cameras: OpenCV convention, rigs, random views, rays and Plücker embeddings."""

import math

from lim_ros.cameras import (
    Cameras,
    elevation_deg,
    intrinsics,
    look_at,
    OBJECT_RADIUS,
    orbit,
    random_cameras,
    rig,
)
from lim_ros.errors import ShapeError
import pytest
import torch


def test_look_at_follows_opencv_convention():
    pose = look_at(torch.tensor([[-3.0, 0.0, 0.0]]))[0]
    right, down, forward = pose[:3, 0], pose[:3, 1], pose[:3, 2]
    assert torch.allclose(forward, torch.tensor([1.0, 0.0, 0.0]))
    assert torch.allclose(right, torch.tensor([0.0, -1.0, 0.0]))
    assert torch.allclose(down, torch.tensor([0.0, 0.0, -1.0]))
    assert torch.allclose(torch.linalg.det(pose[:3, :3]), torch.tensor(1.0))


def test_look_at_straight_down_is_well_defined():
    pose = look_at(torch.tensor([[0.0, 0.0, 3.0]]))[0]
    assert torch.isfinite(pose).all()
    assert torch.allclose(pose[:3, 2], torch.tensor([0.0, 0.0, -1.0]))


def test_target_projects_to_principal_point_at_its_distance():
    cams = rig(4, 64)
    pixels, depth = cams.project(torch.zeros(1, 3))
    assert torch.allclose(pixels, torch.full((4, 1, 2), 32.0), atol=1e-4)
    assert torch.allclose(depth, torch.full((4, 1), 3.0), atol=1e-5)


def test_focal_length_from_field_of_view():
    k = intrinsics(torch.tensor([90.0]), 48, 64)[0]
    assert math.isclose(float(k[0, 0]), 32.0, rel_tol=1e-6)
    assert float(k[0, 2]) == 32.0 and float(k[1, 2]) == 24.0


def test_rays_go_through_pixel_centres():
    cams = rig(6, 16)
    origins, dirs = cams.rays()
    assert origins.shape == dirs.shape == (6, 16, 16, 3)
    points = origins + 2.0 * dirs
    pixels, _ = cams.project(points.reshape(-1, 3))
    pixels = pixels.reshape(6, 6, 16, 16, 2)[torch.arange(6), torch.arange(6)]
    v, u = torch.meshgrid(torch.arange(16) + 0.5, torch.arange(16) + 0.5, indexing='ij')
    assert torch.allclose(pixels, torch.stack([u, v], -1).expand(6, 16, 16, 2), atol=1e-3)


def test_plucker_moment_is_orthogonal_and_invariant_along_the_ray():
    cams = random_cameras(3, 8, torch.Generator().manual_seed(0))
    plucker = cams.plucker()
    assert plucker.shape == (3, 6, 8, 8)
    d, m = plucker[:, :3], plucker[:, 3:]
    assert torch.allclose((d * m).sum(dim=1), torch.zeros(3, 8, 8), atol=1e-5)
    assert torch.allclose(d.norm(dim=1), torch.ones(3, 8, 8), atol=1e-5)
    origins, dirs = cams.rays()
    shifted = torch.linalg.cross(origins + 1.7 * dirs, dirs, dim=-1).permute(0, 3, 1, 2)
    assert torch.allclose(shifted, m, atol=1e-5)


def test_random_cameras_keep_the_object_sphere_in_view_and_are_seeded():
    a = random_cameras(50, 32, torch.Generator().manual_seed(4))
    b = random_cameras(50, 32, torch.Generator().manual_seed(4))
    assert torch.equal(a.world_T_cam, b.world_T_cam)
    dist = a.centres.norm(dim=-1)
    half_fov = torch.atan(16.0 / a.K[:, 0, 0])
    assert (torch.sin(half_fov) * dist >= OBJECT_RADIUS - 1e-4).all()


def test_bad_cameras_raise_shape_errors():
    with pytest.raises(ShapeError, match='world_T_cam'):
        Cameras(torch.eye(3)[None], torch.eye(4).repeat(2, 1, 1), 8, 8)
    with pytest.raises(ShapeError, match='image size'):
        Cameras(torch.eye(3)[None], torch.eye(4)[None], 0, 8)
    bad = torch.eye(4)[None].clone()
    bad[0, 0, 3] = float('nan')
    with pytest.raises(ShapeError, match='NaN'):
        Cameras(torch.eye(3)[None], bad, 8, 8)
    with pytest.raises(ShapeError, match='num_views'):
        rig(5, 8)


def test_unproject_inverts_project():
    cams = rig(4, 16)
    depth = torch.full((4, 1, 16, 16), 2.5)
    points = cams.unproject(depth)
    _, z = cams.project(points.reshape(-1, 3))
    own = z.reshape(4, 4, 16, 16)[torch.arange(4), torch.arange(4)]
    assert torch.allclose(own, torch.full_like(own, 2.5), atol=1e-4)
    with pytest.raises(ShapeError, match='depth'):
        cams.unproject(torch.zeros(4, 16, 16))


def test_select_keeps_the_chosen_views():
    cams = rig(6, 16)
    first, rest = cams.select(slice(4)), cams.select(slice(4, None))
    assert len(first) == 4 and len(rest) == 2
    assert torch.equal(rest.world_T_cam, cams.world_T_cam[4:])
    picked = cams.select(torch.tensor([5, 0]))
    assert torch.equal(picked.K[0], cams.K[5]) and picked.height == 16


def test_orbit_turns_cameras_about_the_vertical_axis():
    source = random_cameras(2, 32, torch.Generator().manual_seed(0))
    turned = orbit(source, (90.0, 360.0))
    assert len(turned) == 4
    assert torch.allclose(turned.world_T_cam[1], source.world_T_cam[0], atol=1e-5)  # 360°
    assert torch.allclose(turned.world_T_cam[3], source.world_T_cam[1], atol=1e-5)
    # a turned look-at camera is the look-at camera of the turned centre
    assert torch.allclose(turned.world_T_cam[0], look_at(turned.centres[:1])[0], atol=1e-5)
    assert torch.allclose(elevation_deg(turned), elevation_deg(source).repeat_interleave(2))
    assert torch.equal(turned.K[2], source.K[1])
    with pytest.raises(ShapeError, match='offsets_deg'):
        orbit(source, ())


def test_elevation_of_the_standard_rig():
    assert torch.allclose(elevation_deg(rig(6, 32)), torch.tensor([20.0, -10.0] * 3), atol=1e-4)
