"""Tests of the LRM's modules: shapes, triplane sampling, bad input, volume rendering."""

from lim_ros.cameras import rig
from lim_ros.errors import ShapeError
from lim_ros.models.decoder import FieldOutput
from lim_ros.models.lrm import LRM, LRMConfig
from lim_ros.models.triplane import sample_planes
from lim_ros.models.volume_renderer import laplace_density, render_rays
import pytest
import torch

SMALL = LRMConfig(image_size=32, patch_size=8, encoder_dim=32, encoder_depth=1, dim=32, depth=2,
                  heads=2, token_resolution=4, upsample=2, plane_channels=8, decoder_hidden=16,
                  decoder_layers=2)


def test_lrm_shapes_for_any_number_of_views():
    model = LRM(SMALL)
    for views in (1, 3, 6):
        out = model(torch.rand(2, views, 3, 32, 32), torch.rand(2, views, 6, 32, 32))
        assert out.planes.shape == (2, 3, 8, 8, 8)
        assert out.features.shape == (2, 3 * 4 * 4, 32)
    field = model.decode(out.planes, torch.rand(2, 10, 3) * 2 - 1)
    assert field.sdf.shape == (2, 10) and field.albedo.shape == (2, 10, 3)
    assert field.albedo.min() >= 0 and field.albedo.max() <= 1


def test_reconstruct_from_cameras():
    model = LRM(SMALL)
    cams = rig(4, 32)
    out = model.reconstruct(torch.rand(4, 3, 32, 32), cams)
    assert out.planes.shape[0] == 1


def test_views_are_an_unordered_set():
    model = LRM(SMALL).eval()
    rgb, rays = torch.rand(1, 3, 3, 32, 32), torch.rand(1, 3, 6, 32, 32)
    order = torch.tensor([2, 0, 1])
    a = model(rgb, rays).planes
    b = model(rgb[:, order], rays[:, order]).planes
    assert torch.allclose(a, b, atol=1e-5)


def test_bad_input_shapes_raise_shape_error():
    model = LRM(SMALL)
    with pytest.raises(ShapeError, match='rgb'):
        model(torch.rand(1, 2, 3, 16, 16), torch.rand(1, 2, 6, 16, 16))
    with pytest.raises(ShapeError, match='plucker'):
        model(torch.rand(1, 2, 3, 32, 32), torch.rand(1, 3, 6, 32, 32))


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
