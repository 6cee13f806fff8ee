"""Tests of the LRM's modules: shapes, triplane sampling, bad input, volume rendering."""

from lim_ros.cameras import random_cameras, rig
from lim_ros.errors import ShapeError
from lim_ros.models.decoder import FieldOutput
from lim_ros.models.lrm import LRM
from lim_ros.models.projected_tokens import column_points, ColumnFeatures, ViewFeatures
from lim_ros.models.triplane import sample_planes
from lim_ros.models.volume_renderer import laplace_density, render_rays
import pytest
from tiny_models import TINY_LRM
import torch


def _cameras(batch: int, views: int) -> tuple[torch.Tensor, torch.Tensor]:
    cams = random_cameras(batch * views, 32, torch.Generator().manual_seed(views))
    return cams.K.reshape(batch, views, 3, 3), cams.world_T_cam.reshape(batch, views, 4, 4)


def test_lrm_shapes_for_any_number_of_views():
    model = LRM(TINY_LRM)
    for views in (1, 3, 6):
        out = model(torch.rand(2, views, 3, 32, 32), *_cameras(2, views))
        assert out.planes.shape == (2, 3, 8, 8, 8)
        assert out.features.shape == (2, 3 * 4 * 4, 32)
    field = model.decode(out.planes, torch.rand(2, 10, 3) * 2 - 1)
    assert field.sdf.shape == (2, 10) and field.albedo.shape == (2, 10, 3)
    assert field.albedo.min() >= 0 and field.albedo.max() <= 1


def test_reconstruct_from_cameras():
    model = LRM(TINY_LRM)
    cams = rig(4, 32)
    out = model.reconstruct(torch.rand(4, 3, 32, 32), cams)
    assert out.planes.shape[0] == 1


def test_views_are_an_unordered_set():
    model = LRM(TINY_LRM).eval()
    rgb, (k, poses) = torch.rand(1, 3, 3, 32, 32), _cameras(1, 3)
    order = torch.tensor([2, 0, 1])
    a = model(rgb, k, poses).planes
    b = model(rgb[:, order], k[:, order], poses[:, order]).planes
    assert torch.allclose(a, b, atol=1e-5)


def test_bad_input_shapes_raise_shape_error():
    model = LRM(TINY_LRM)
    k, poses = _cameras(1, 2)
    with pytest.raises(ShapeError, match='rgb'):
        model(torch.rand(1, 2, 3, 16, 16), k, poses)
    with pytest.raises(ShapeError, match='K'):
        model(torch.rand(1, 2, 3, 32, 32), k[:, :1], poses)
    with pytest.raises(ShapeError, match='world_T_cam'):
        model(torch.rand(1, 2, 3, 32, 32), k, poses[..., :3, :])


def test_plane_sampling_reads_the_right_axes():
    planes = torch.zeros(1, 3, 1, 2, 2)
    # plane XY: value 1 where x > 0 (width axis); plane XZ: value 2 where z > 0 (height axis)
    planes[0, 0, 0, :, 1] = 1.0
    planes[0, 1, 0, 1, :] = 2.0
    points = torch.tensor([[[0.5, -0.5, 0.5], [-0.5, 0.5, -0.5]]])
    features = sample_planes(planes, points)
    assert torch.allclose(features[0, :, 0], torch.tensor([1.0, 0.0]))
    assert torch.allclose(features[0, :, 1], torch.tensor([2.0, 0.0]))


def _sphere_field(radius: float):
    def field(points: torch.Tensor) -> FieldOutput:
        sdf = points.norm(dim=-1) - radius
        return FieldOutput(sdf, torch.full((*sdf.shape, 3), 0.25), points)
    return field


def test_volume_rendering_of_a_sphere():
    origins = torch.tensor([[[-3.0, 0.0, 0.0], [-3.0, 0.9, 0.0]]])
    dirs = torch.tensor([[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]])
    out = render_rays(_sphere_field(0.5), origins, dirs, num_samples=256, beta=0.005)
    assert out.opacity[0, 0] > 0.99 and out.opacity[0, 1] < 0.01
    assert abs(float(out.distance[0, 0]) - 2.5) < 0.02
    assert torch.allclose(out.albedo[0, 0], torch.full((3,), 0.25), atol=0.01)


def test_laplace_density_is_half_peak_on_the_surface():
    d = laplace_density(torch.tensor([-1.0, 0.0, 1.0]), beta=0.1)
    assert torch.allclose(d, torch.tensor([10.0 * (1 - 0.5 * torch.exp(torch.tensor(-10.0))),
                                           5.0, 5.0 * torch.exp(torch.tensor(-10.0))]))


def test_column_points_follow_the_plane_layout():
    points = column_points(2, 3).reshape(3, 2, 2, 3, 3)  # plane, row, column, k, xyz
    # plane XY: rows along y, columns along x, columns of points along z
    assert torch.allclose(points[0, 1, 0, :, :2], torch.tensor([-0.5, 0.5]).expand(3, 2))
    assert torch.allclose(points[0, 0, 0, :, 2], torch.tensor([-0.9, 0.0, 0.9]))
    # plane YZ: columns along y, rows along z, points along x
    assert torch.allclose(points[2, 1, 0, 0], torch.tensor([-0.9, -0.5, 0.5]))


def test_column_features_shapes():
    columns = ColumnFeatures(resolution=4, depth_samples=4, channels=4, out_dim=8)
    cams = rig(4, 32)
    maps = ViewFeatures(4)(torch.rand(1, 4, 3, 32, 32))
    out = columns(maps, cams.K[None], cams.world_T_cam[None], (32, 32))
    assert maps.shape == (4, 4, 16, 16)
    assert out.shape == (1, 3 * 16, 8) and torch.isfinite(out).all()


def test_columns_outside_every_view_see_nothing():
    columns = ColumnFeatures(resolution=2, depth_samples=2, channels=1, out_dim=1)
    cams = rig(4, 32)
    narrow = cams.K.clone()
    narrow[:, 0, 0] = narrow[:, 1, 1] = 1e4  # a tiny field of view: only the centre is seen
    maps = torch.ones(4, 1, 16, 16)
    columns.embed = torch.nn.Identity()
    stats = columns(maps, narrow[None], cams.world_T_cam[None], (32, 32))  # (1, 12, 2 * 3)
    share_seen = stats[0, :, 2::3]
    assert (share_seen == 0).all()


def test_laplace_density_gradient_is_finite_far_from_the_surface():
    sdf = torch.tensor([-50.0, 0.0, 50.0], requires_grad=True)
    laplace_density(sdf, beta=0.01).sum().backward()
    assert torch.isfinite(sdf.grad).all()
