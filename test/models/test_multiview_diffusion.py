"""Tests of the multi-view diffusion model: shapes, sampling, checkpoints, bad input."""

import dataclasses
from types import SimpleNamespace

from lim_ros.errors import CheckpointError, ConfigError, ShapeError
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.multiview_diffusion import (
    diffused_target,
    load_multiview_diffusion,
    MultiViewDiffusion,
    MVDiffusionConfig,
    sample_views,
    views_of,
)
import pytest
from tiny_models import TINY_MVDIFF
import torch
from torch import nn

PRIOR_MVDIFF = dataclasses.replace(TINY_MVDIFF, prior='lrm_render', prior_lrm='lrm.safetensors')


@pytest.fixture(scope='module')
def model() -> MultiViewDiffusion:
    torch.manual_seed(0)
    return MultiViewDiffusion(TINY_MVDIFF)


@pytest.fixture(scope='module')
def prior_model() -> MultiViewDiffusion:
    torch.manual_seed(0)
    return MultiViewDiffusion(PRIOR_MVDIFF)


def test_forward_predicts_one_value_per_target_channel(model):
    noisy = torch.randn(2, 9, 32, 32)
    out = model(noisy, torch.tensor([0, 999]), torch.rand(2, 3, 32, 32), torch.tensor([-30., 60.]))
    assert out.shape == (2, 9, 32, 32) and torch.isfinite(out).all()


def test_elevation_changes_the_prediction(model):
    args = torch.randn(1, 9, 32, 32), torch.tensor([500]), torch.rand(1, 3, 32, 32)
    low, high = model(*args, torch.tensor([-20.0])), model(*args, torch.tensor([50.0]))
    assert not torch.allclose(low, high)


def test_generate_is_a_function_of_the_noise(model):
    condition = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    elevation = torch.tensor([10.0, 30.0])
    noise = model.initial_noise(2, torch.Generator().manual_seed(2))
    views = model.generate(condition, elevation, noise, steps=2)
    assert views.shape == (2, 3, 3, 32, 32)
    assert 0.0 <= float(views.min()) and float(views.max()) <= 1.0
    assert torch.equal(views, model.generate(condition, elevation, noise, steps=2))
    other = model.initial_noise(2, torch.Generator().manual_seed(3))
    assert not torch.equal(views, model.generate(condition, elevation, other, steps=2))
    assert model.training  # generate restores the mode


def test_bad_inputs_are_named(model):
    noise = model.initial_noise(1, torch.Generator().manual_seed(0))
    with pytest.raises(ShapeError, match='condition'):
        model.generate(torch.rand(1, 3, 16, 16), torch.zeros(1), noise)
    with pytest.raises(ShapeError, match='condition: expected finite values in'):
        model.generate(2.0 * torch.ones(1, 3, 32, 32), torch.zeros(1), noise)
    with pytest.raises(ShapeError, match='elevation_deg'):
        model.generate(torch.rand(1, 3, 32, 32), torch.zeros(2), noise)
    with pytest.raises(ShapeError, match='noisy'):
        model(torch.randn(1, 6, 32, 32), torch.zeros(1), torch.rand(1, 3, 32, 32), torch.zeros(1))


def test_checkpoint_round_trip(model, tmp_path):
    path = tmp_path / 'mvdiff.safetensors'
    save_checkpoint(path, model, model.config, kind='mvdiff')
    loaded = load_multiview_diffusion(path)
    assert loaded.config == TINY_MVDIFF and not loaded.training
    for name, value in model.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name])
    save_checkpoint(tmp_path / 'other.safetensors', model, model.config, kind='lrm')
    with pytest.raises(CheckpointError, match="wrong kind: expected 'mvdiff'"):
        load_multiview_diffusion(tmp_path / 'other.safetensors')


@pytest.mark.parametrize('fields, name', [
    ({'offsets_deg': ()}, 'offsets_deg'),
    ({'block_channels': (12, 16)}, 'block_channels'),
    ({'image_size': 33}, 'image_size'),
    ({'attention_levels': 3}, 'attention_levels'),
    ({'prediction_type': 'sample'}, 'prediction_type'),
    ({'sample_steps': 0}, 'sample_steps'),
    ({'prior': 'depth'}, 'prior'),
    ({'prior': 'lrm_render'}, 'prior_lrm'),
    ({'prior_grid': 0}, 'prior_grid'),
    ({'sample_strength': 0.5}, 'sample_strength'),  # below 1 needs a prior
    ({'sample_strength': 0.0, 'prior': 'lrm_render', 'prior_lrm': 'x'}, 'sample_strength'),
])
def test_bad_config_names_the_field(fields, name):
    with pytest.raises(ConfigError, match=name):
        dataclasses.replace(TINY_MVDIFF, **fields)


def test_default_sizes_fit_the_size_budget():
    for cfg in (MVDiffusionConfig(), MVDiffusionConfig(block_channels=(48, 64, 96, 120),
                                                       attention_levels=2)):
        params = sum(p.numel() for p in MultiViewDiffusion(cfg).parameters())
        assert params * 4 <= 16e6  # float32 bytes: checkpoints of at most 16 MB


class ExactDenoiser(nn.Module):
    """The exact v-prediction for one known clean sample: DDIM must then return that sample."""

    def __init__(self, clean: torch.Tensor, alphas_cumprod: torch.Tensor) -> None:
        super().__init__()
        self.clean, self.alphas = clean, alphas_cumprod
        self.unused = nn.Parameter(torch.zeros(1))  # sample_views reads the parameters' dtype

    def forward(self, inputs, t, class_labels):
        noisy = inputs[:, :self.clean.shape[1]]
        a = self.alphas[t].view(-1, 1, 1, 1)
        noise = (noisy - a.sqrt() * self.clean) / (1.0 - a).sqrt()
        return SimpleNamespace(sample=a.sqrt() * noise - (1.0 - a).sqrt() * self.clean)


@pytest.mark.parametrize('steps', [2, 25])
def test_ddim_sampling_with_the_exact_denoiser_recovers_the_views(model, steps):
    scheduler = model.sampling_scheduler()
    views = torch.rand(2, 3, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    clean = 2.0 * views.flatten(1, 2) - 1.0
    noise = model.initial_noise(2, torch.Generator().manual_seed(5))
    out = sample_views(ExactDenoiser(clean, scheduler.alphas_cumprod), scheduler,
                       torch.rand(2, 3, 32, 32), torch.zeros(2), noise, steps)
    assert torch.allclose(out, views, atol=1e-5)


def test_a_prior_model_reads_its_prior_views(prior_model):
    noisy, t = torch.randn(1, 9, 32, 32), torch.tensor([500])
    condition, elevation = torch.rand(1, 3, 32, 32), torch.zeros(1)
    prior = torch.rand(1, 3, 3, 32, 32, generator=torch.Generator().manual_seed(6))
    out = prior_model(noisy, t, condition, elevation, prior)
    assert out.shape == (1, 9, 32, 32)
    assert not torch.allclose(out, prior_model(noisy, t, condition, elevation, 1.0 - prior))
    with pytest.raises(ShapeError, match="prior 'lrm_render' needs its prior views"):
        prior_model(noisy, t, condition, elevation)
    with pytest.raises(ShapeError, match='prior'):
        prior_model(noisy, t, condition, elevation, prior[:, :2])
    noise = prior_model.initial_noise(1, torch.Generator().manual_seed(7))
    views = prior_model.generate(condition, elevation, noise, steps=2, prior=prior)
    assert views.shape == (1, 3, 3, 32, 32)
    assert 0.0 <= float(views.min()) and float(views.max()) <= 1.0


def test_a_model_without_a_prior_refuses_prior_views(model):
    prior = torch.rand(1, 3, 3, 32, 32)
    with pytest.raises(ShapeError, match='this model has no prior'):
        model(torch.randn(1, 9, 32, 32), torch.zeros(1), torch.rand(1, 3, 32, 32),
              torch.zeros(1), prior)


def test_with_a_prior_the_residual_is_diffused_and_added_back():
    views = torch.rand(2, 3, 3, 8, 8, generator=torch.Generator().manual_seed(8))
    prior = torch.rand(2, 3, 3, 8, 8, generator=torch.Generator().manual_seed(9))
    residual = diffused_target(views, prior)
    assert torch.allclose(residual, (views - prior).flatten(1, 2))
    assert torch.allclose(views_of(residual, prior), views, atol=1e-6)
    assert torch.allclose(views_of(diffused_target(views, None), None), views, atol=1e-6)
    assert torch.equal(views_of(torch.zeros_like(residual), prior), prior)


@pytest.mark.parametrize('strength', [1.0, 0.25])
def test_ddim_with_the_exact_denoiser_recovers_the_views_over_a_prior(prior_model, strength):
    scheduler = prior_model.sampling_scheduler()
    views = torch.rand(2, 3, 3, 32, 32, generator=torch.Generator().manual_seed(10))
    prior = (views + 0.1 * torch.randn(views.shape, generator=torch.Generator().manual_seed(11))
             ).clamp(0.0, 1.0)
    noise = prior_model.initial_noise(2, torch.Generator().manual_seed(12))
    clean = diffused_target(views, prior)
    out = sample_views(ExactDenoiser(clean, scheduler.alphas_cumprod), scheduler,
                       torch.rand(2, 3, 32, 32), torch.zeros(2), noise, 8, prior, strength)
    assert torch.allclose(out, views, atol=1e-5)


def test_sampling_part_of_the_schedule_starts_from_the_prior(prior_model):
    scheduler = prior_model.sampling_scheduler()
    calls = []

    class Recorder(nn.Module):  # predicts v = 0 and records the timesteps it is called at
        def __init__(self) -> None:
            super().__init__()
            self.unused = nn.Parameter(torch.zeros(1))

        def forward(self, inputs, t, class_labels):
            calls.append(int(t[0]))
            return SimpleNamespace(sample=torch.zeros_like(inputs[:, :9]))

    prior = torch.full((1, 3, 3, 32, 32), 0.5)
    noise = prior_model.initial_noise(1, torch.Generator().manual_seed(13))
    sample_views(Recorder(), scheduler, torch.rand(1, 3, 32, 32), torch.zeros(1), noise, 20,
                 prior, 0.25)
    assert calls == scheduler.timesteps[-5:].tolist()  # the last quarter of 20 steps
    with pytest.raises(ShapeError, match='needs prior views'):
        sample_views(Recorder(), scheduler, torch.rand(1, 3, 32, 32), torch.zeros(1), noise,
                     20, None, 0.25)
