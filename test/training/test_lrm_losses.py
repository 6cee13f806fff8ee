"""Tests of the LRM losses on hand-made fields."""

from lim_ros.models.decoder import FieldOutput
from lim_ros.models.volume_renderer import RayOutput
from lim_ros.training.lrm_losses import (
    LossWeights,
    point_losses,
    RayTargets,
    render_losses,
    total_loss,
)
import torch


def _field(sdf: torch.Tensor) -> FieldOutput:
    return FieldOutput(sdf, torch.full((*sdf.shape, 3), 0.5), torch.zeros(*sdf.shape, 3))


def test_point_losses_vanish_for_the_truth_and_weigh_classes_equally():
    sdf = torch.tensor([[-0.3, 0.2, 0.4, 0.6]])  # one inside point, three outside
    surface = _field(torch.zeros(1, 2))
    colours, canonical = torch.full((1, 2, 3), 0.5), torch.zeros(1, 2, 3)
    exact = point_losses(_field(sdf), sdf, surface, colours, canonical, truncation=0.1)
    assert exact['sdf'] == 0 and exact['surface'] == 0 and exact['albedo'] == 0
    assert exact['occupancy'] < 1e-2
    # getting the single inside point wrong costs as much as getting all outside points wrong
    wrong_in = sdf.clone()
    wrong_in[0, 0] = 0.3
    wrong_out = -sdf.abs()
    wrong_out[0, 0] = -0.3
    a = point_losses(_field(wrong_in), sdf, surface, colours, canonical, 0.1)['occupancy']
    b = point_losses(_field(wrong_out), sdf, surface, colours, canonical, 0.1)['occupancy']
    assert a > 1.0 and b > 1.0 and abs(float(a) - float(b)) < 0.5 * float(a)


def test_render_losses_and_weighted_total():
    rays = RayOutput(albedo=torch.zeros(1, 2, 3), distance=torch.tensor([[2.0, 0.0]]),
                     opacity=torch.tensor([[1.0, 0.0]]))
    target = RayTargets(albedo=torch.tensor([[[0.0] * 3, [1.0] * 3]]),
                        mask=torch.tensor([[1.0, 0.0]]), distance=torch.tensor([[2.5, 0.0]]))
    terms = render_losses(rays, target)
    assert terms['render_albedo'] == 0  # white background composited
    assert abs(float(terms['render_depth']) - 0.5) < 1e-6
    assert terms['render_mask'] < 1e-3
    weights = LossWeights()
    assert torch.isclose(total_loss(terms, weights), weights.render_depth * terms['render_depth']
                         + weights.render_mask * terms['render_mask'])
