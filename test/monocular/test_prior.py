"""Tests of the generators' prior views: the shipped LRM on one view, rendered elsewhere."""

from lim_ros.cameras import orbit, random_cameras
from lim_ros.engine.assets import DEFAULT_LRM
from lim_ros.metrics import psnr
from lim_ros.monocular.prior import load_prior
from lim_ros.render.sphere_tracer import render
from lim_ros.world.families import make_object
import torch


def test_prior_views_of_the_shipped_lrm_look_like_the_object_from_the_targets():
    prior = load_prior(DEFAULT_LRM, grid_resolution=32)
    size = prior.lrm.config.image_size
    camera = random_cameras(1, size, torch.Generator().manual_seed(3))
    targets = orbit(camera, (90.0, 180.0, 270.0))
    obj = make_object('humanoid', 7)
    view = render(obj, camera, 0.0).rgb[0]
    true = render(obj, targets, 0.0).rgb
    views = prior.views(view, camera, targets)
    assert views.shape == (3, 3, size, size)
    assert 0.0 <= float(views.min()) and float(views.max()) <= 1.0
    assert psnr(views, true) > psnr(torch.ones_like(true), true) + 2.0
    assert psnr(views, true) > psnr(view.expand_as(true), true) + 1.0  # better than copying
