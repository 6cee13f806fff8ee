"""Tests of view evidence: foreground, the soft visual hull in the planes, reading it back."""

import dataclasses

from lim_ros.cameras import rig
from lim_ros.errors import ConfigError
from lim_ros.eval.lrm_eval import evaluation_set, LRMEvalConfig
from lim_ros.geometry.grid import grid_points
from lim_ros.geometry.visual_hull import visual_hull_occupancy
from lim_ros.metrics import volumetric_iou
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.lim import LIM
from lim_ros.models.lrm import blend, load_lrm, LRM, LRMConfig
from lim_ros.models.view_evidence import (
    evidence_planes,
    EVIDENCE_STATS,
    foreground,
    read_evidence,
)
import pytest
from tiny_models import TINY_LIM, TINY_LRM
import torch

EVIDENCE_LRM = dataclasses.replace(TINY_LRM, evidence_samples=4)


def test_foreground_is_what_is_not_white():
    rgb = torch.tensor([[1.0, 1.0, 1.0], [0.995, 1.0, 1.0], [1.0, 0.5, 1.0], [0.0, 0.0, 0.0]])
    fg = foreground(rgb.T[:, None, :])[0, 0]
    assert fg.tolist() == pytest.approx([0.0, 0.25, 1.0, 1.0])


def test_evidence_holds_the_visual_hull_of_a_world_object():
    sample = evaluation_set(LRMEvalConfig(samples_per_split=1), 64, 'held_out')[0]
    cams = sample.cameras().select(slice(4))
    rgb = sample.rgb[0, :4]
    planes = evidence_planes(rgb[None], cams.K[None], cams.world_T_cam[None], 64, 32)
    assert planes.shape == (1, 3, EVIDENCE_STATS * 32, 64, 64)
    points = grid_points(64)
    evidence = read_evidence(planes, points[None])[0]
    hull = visual_hull_occupancy(sample.mask[0, :4], cams, points)
    soft_hull = evidence[:, ::EVIDENCE_STATS].mean(dim=1)  # the three planes' foreground minima
    assert volumetric_iou(soft_hull > 0.5, hull) > 0.75
    inside = evidence[hull][:, 2:5]  # mean colour inside the hull: the object's, not white
    assert float(inside.mean()) < 0.9
    assert bool((evidence[~hull][:, 0] < 0.5).float().mean() > 0.99)


def test_reading_is_linear_along_the_normal_between_slice_centres():
    k, n = 4, 2
    planes = torch.zeros(1, 3, EVIDENCE_STATS * k, n, n)
    planes[:, 0, :k] = torch.arange(k, dtype=torch.float32)[:, None, None]  # stat 0 on plane XY
    z = torch.tensor([-0.75, -0.5, 0.0, 0.75, 1.0])  # slice centres at ±0.25, ±0.75
    points = torch.stack([torch.zeros(5), torch.zeros(5), z], dim=-1)[None]
    values = read_evidence(planes, points)[0, :, 0]
    assert values.tolist() == pytest.approx([0.0, 0.5, 1.5, 3.0, 3.0])


def test_an_lrm_with_evidence_starts_as_its_base():
    base = LRM(TINY_LRM).eval()
    model = LRM(EVIDENCE_LRM).eval()
    model.load_state_dict(base.state_dict(), strict=False)
    rgb, cams = torch.rand(4, 3, 32, 32) * 0.5, rig(4, 32)
    out, base_out = model.reconstruct(rgb, cams), base.reconstruct(rgb, cams)
    assert out.planes.shape == (1, 3, EVIDENCE_LRM.output_channels, 8, 8)
    assert torch.equal(out.planes[:, :, :TINY_LRM.plane_channels], base_out.planes)
    points = torch.rand(1, 50, 3) * 2 - 1
    assert torch.equal(model.decode(out.planes, points).sdf,
                       base.decode(base_out.planes, points).sdf)


def test_evidence_samples_must_allow_interpolation():
    with pytest.raises(ConfigError, match='evidence_samples'):
        LRMConfig(evidence_samples=1)


def test_an_evidence_checkpoint_round_trips(tmp_path):
    model = LRM(EVIDENCE_LRM).eval()
    save_checkpoint(tmp_path / 'lrm.safetensors', model, EVIDENCE_LRM, kind='lrm')
    loaded = load_lrm(tmp_path / 'lrm.safetensors')
    assert loaded.config.evidence_samples == 4 and loaded.decoder.correction is not None


def test_lim_moves_the_evidence_with_the_planes():
    model = LRM(EVIDENCE_LRM).eval()
    rgb, cams = torch.rand(4, 3, 32, 32) * 0.5, rig(4, 32)
    source, target = model.reconstruct(rgb, cams), model.reconstruct(rgb.flip(-1), cams)
    alpha = torch.tensor([0.4])
    out = LIM(TINY_LIM)(source, target, alpha)
    assert out.planes.shape == source.planes.shape
    assert torch.allclose(out.planes, blend(source, target, alpha).planes, atol=1e-6)
