"""Tests of the sphere tracer on an analytic sphere and on procedural objects."""

import math

from lim_ros.cameras import rig
from lim_ros.render.sphere_tracer import ray_box, render, RenderConfig
from lim_ros.world.families import make_object
import pytest
import torch
from world.sphere import moving_sphere


def test_ray_box_entry_and_exit():
    origins = torch.tensor([[-3.0, 0.0, 0.0], [-3.0, 5.0, 0.0]])
    dirs = torch.tensor([[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    near, far = ray_box(origins, dirs)
    assert near[0] == 2.0 and far[0] == 4.0
    assert near[1] > far[1]


def _sphere_render(size: int = 64, t: float = 0.0):
    sphere = moving_sphere(0.5, (0.1, 0.0, 0.0))
    return sphere, rig(4, size), render(sphere, rig(4, size), t, RenderConfig(background=0.0))


def test_sphere_depth_mask_and_normals_match_geometry():
    _, cams, out = _sphere_render()
    centre = out.depth[:, 0, 31:33, 31:33]
    assert torch.allclose(centre, torch.full_like(centre, 2.5), atol=5e-3)
    # projected disc: radius r_px = f * tan(asin(R / D))
    focal = float(cams.K[0, 0, 0])
    r_px = focal * math.tan(math.asin(0.5 / 3.0))
    area = out.mask.sum(dim=(1, 2, 3))
    assert torch.allclose(area, torch.full_like(area, math.pi * r_px**2), rtol=0.05)
    forward = cams.world_T_cam[:, :3, 2]
    centre_normal = out.normals[:, :, 32, 32]
    assert torch.allclose(centre_normal, -forward, atol=0.05)
    assert (out.depth[out.mask == 0] == 0).all()
    assert out.rgb.shape == (4, 3, 64, 64) and out.rgb.min() >= 0 and out.rgb.max() <= 1


def test_sphere_canonical_image_undoes_the_motion():
    sphere, cams, out = _sphere_render(t=2.0)
    hit = out.mask[:, 0] > 0
    points = cams.unproject(out.depth)[hit]
    canonical = out.canonical.permute(0, 2, 3, 1)[hit]
    assert torch.allclose(canonical, points - torch.tensor([0.2, 0.0, 0.0]), atol=2e-3)


def test_rendered_surface_is_consistent_with_the_sdf():
    obj = make_object('humanoid', 2)
    cams = rig(4, 48)
    out = render(obj, cams, 0.7)
    hit = out.mask[:, 0] > 0
    points = cams.unproject(out.depth)[hit]
    assert hit.sum() > 200
    assert obj.sdf(points, 0.7).abs().max() < 2e-3


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_render_matches_cpu():
    obj = make_object('blob', 0)
    cams = rig(4, 32)
    cpu = render(obj, cams, 0.3)
    gpu = render(obj.to('cuda'), cams.to('cuda'), 0.3)
    assert (cpu.mask != gpu.mask.cpu()).float().mean() < 0.01


def test_silhouettes_have_no_holes():
    # grazing rays that run out of steps near the surface still count as hits
    from lim_ros.geometry.visual_hull import visual_hull_occupancy

    obj = make_object('tumbler', 0)
    cams = rig(4, 64)
    out = render(obj, cams, 0.5)
    surface = obj.surface_samples(0.5, 3000, torch.Generator().manual_seed(0))
    inside = surface.points - 0.02 * surface.normals
    carved = visual_hull_occupancy(out.mask, cams, inside)
    assert carved.float().mean() > 0.995
