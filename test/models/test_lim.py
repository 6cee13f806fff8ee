"""Tests of LIM: shapes, its start at linear interpolation, α conditioning, checks, loading."""

from dataclasses import replace
import json
from pathlib import Path

from lim_ros.errors import ConfigError, ShapeError
from lim_ros.interp.triplane_flow import TriplaneFlow
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.lim import LIM, LIMConfig, load_lim, one_path
from lim_ros.models.lrm import blend, LRM, LRMOutput
import pytest
from safetensors import safe_open
from tiny_models import TINY_LIM, TINY_LRM
import torch

MODELS = Path(__file__).resolve().parents[2] / 'models'


def _keyframes(batch: int = 2, seed: int = 0) -> tuple[LRMOutput, LRMOutput]:
    g = torch.Generator().manual_seed(seed)
    n = TINY_LRM.plane_resolution
    tokens = 3 * TINY_LRM.token_resolution**2

    def one() -> LRMOutput:
        return LRMOutput(torch.randn(batch, 3, TINY_LRM.plane_channels, n, n, generator=g),
                         torch.randn(batch, tokens, TINY_LRM.dim, generator=g))

    return one(), one()


def _perturbed(seed: int = 1) -> LIM:
    """Return a LIM with every weight moved at random, its zero heads too, as training would."""
    lim = LIM(TINY_LIM).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in lim.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=g))
    return lim


def test_untrained_lim_is_linear_interpolation():
    source, target = _keyframes()
    alpha = torch.tensor([0.3, 0.8])
    out = LIM(TINY_LIM)(source, target, alpha)
    expected = blend(source, target, alpha)
    assert out.planes.shape == source.planes.shape and out.features.shape == source.features.shape
    assert torch.allclose(out.planes, expected.planes, atol=1e-6)
    assert torch.allclose(out.features, expected.features, atol=1e-6)


def test_output_depends_on_alpha_and_on_both_keyframes():
    lim = _perturbed()
    source, target = _keyframes(batch=1)
    with torch.no_grad():
        a = lim(source, target, torch.tensor([0.25]))
        b = lim(source, target, torch.tensor([0.75]))
        other = LRMOutput(target.planes, target.features + 1.0)
        c = lim(source, other, torch.tensor([0.25]))
    assert not torch.allclose(a.planes, b.planes, atol=1e-4)
    assert not torch.allclose(a.planes, c.planes, atol=1e-4)


def test_output_feeds_back_as_a_source():
    lim = _perturbed()
    source, target = _keyframes()
    with torch.no_grad():
        middle = lim(source, target, torch.tensor([0.5, 0.5]))
        chained = lim(middle, target, torch.tensor([0.5, 0.5]))
    assert chained.planes.shape == source.planes.shape
    assert torch.isfinite(chained.planes).all()


def test_bad_shapes_name_the_argument():
    lim = LIM(TINY_LIM)
    source, target = _keyframes()
    with pytest.raises(ShapeError, match='alpha'):
        lim(source, target, torch.tensor([0.5]))
    with pytest.raises(ShapeError, match=r'alpha: expected values in \[0, 1\], got \[0.5, nan\]'):
        lim(source, target, torch.tensor([0.5, float('nan')]))
    with pytest.raises(ShapeError, match='alpha: expected values in'):
        lim(source, target, torch.tensor([-0.1, 0.5]))
    wrong = LRMOutput(source.planes[:, :, :4], source.features)
    with pytest.raises(ShapeError, match='source'):
        lim(wrong, target, torch.tensor([0.5, 0.5]))


def test_lim_must_fit_its_lrm():
    TINY_LIM.check_lrm(TINY_LRM)
    with pytest.raises(ConfigError, match='feature_dim 128 vs LRM 32'):
        LIMConfig().check_lrm(TINY_LRM)


def test_initialise_from_lrm_copies_its_blocks():
    lrm, lim = LRM(TINY_LRM), LIM(TINY_LIM)
    lim.initialise_from(lrm)
    for i, block in enumerate(lim.blocks):
        source = lrm.blocks[i % len(lrm.blocks)]
        assert torch.equal(block.self_block.attn.to_q.weight, source.self_block.attn.to_q.weight)
        for cross in block.cross:
            assert torch.equal(cross.to_kv.weight, source.cross[0].to_kv.weight)
    source, target = _keyframes()
    alpha = torch.tensor([0.5, 0.5])
    assert torch.allclose(lim(source, target, alpha).planes, blend(source, target, alpha).planes,
                          atol=1e-6)


def test_checkpoint_round_trip(tmp_path):
    lim = _perturbed()
    save_checkpoint(tmp_path / 'lim.safetensors', lim, TINY_LIM, kind='lim')
    loaded = load_lim(tmp_path / 'lim.safetensors')
    assert loaded.config == TINY_LIM and not loaded.training
    source, target = _keyframes()
    alpha = torch.tensor([0.1, 0.9])
    with torch.no_grad():
        assert torch.equal(loaded(source, target, alpha).planes, lim(source, target, alpha).planes)


def test_one_path_keeps_the_other_path_out():
    source, target = _keyframes()
    alpha = torch.tensor([0.3, 0.8])
    lim = _perturbed()
    with torch.no_grad():
        full = lim(source, target, alpha)
        gather = one_path(lim, 'gather')(source, target, alpha)
        correction = one_path(lim, 'correction')(source, target, alpha)
        both_out = one_path(one_path(lim, 'gather'), 'correction')(source, target, alpha)
        linear = blend(source, target, alpha)
    assert torch.allclose(both_out.planes, linear.planes, atol=1e-5)
    assert torch.allclose(both_out.features, linear.features, atol=1e-5)
    # each path alone changes the blend, and neither alone is the full LIM
    for one in (gather, correction):
        assert not torch.allclose(one.planes, linear.planes, atol=1e-3)
        assert not torch.allclose(one.planes, full.planes, atol=1e-3)
    # the sum of both paths' changes is the full LIM's change (the paths add up)
    total = gather.planes + correction.planes - linear.planes
    assert torch.allclose(total, full.planes, atol=1e-4)
    assert lim.plane_head.proj.weight.abs().sum() > 0  # the original is untouched
    with pytest.raises(ConfigError, match='path: expected one of'):
        one_path(lim, 'flow')


def test_flow_warp_lim_starts_at_triplane_flow_and_its_heads_correct_it(tmp_path):
    config = replace(TINY_LIM, flow_warp=True)
    lim = LIM(config).eval()
    source, target = _keyframes()
    alpha = torch.tensor([0.3, 0.8])
    flowed = TriplaneFlow()(source, target, alpha)
    assert not torch.allclose(flowed.planes, blend(source, target, alpha).planes, atol=1e-3)
    with torch.no_grad():
        out = lim(source, target, alpha)
        assert torch.allclose(out.planes, flowed.planes, atol=1e-5)
        assert torch.allclose(out.features, flowed.features, atol=1e-5)
        lim.plane_head.proj.bias.fill_(0.5)
        assert torch.allclose(lim(source, target, alpha).planes, flowed.planes + 0.5, atol=1e-5)
    save_checkpoint(tmp_path / 'flow.safetensors', lim, config, kind='lim')
    assert load_lim(tmp_path / 'flow.safetensors').config.flow_warp


def test_a_checkpoint_from_before_flow_warp_loads_with_it_off():
    path = MODELS / 'lim_tiny.safetensors'
    with safe_open(str(path), 'pt') as f:
        assert 'flow_warp' not in json.loads(f.metadata()['config'])
    assert load_lim(path).config.flow_warp is False
