"""Tests for lim_ros.metrics.image: PSNR of known MSEs, SSIM against analytic and numpy values."""

import math

from lim_ros.errors import ConfigError, ShapeError
from lim_ros.metrics import gaussian_window, psnr, ssim
import numpy as np
import pytest
import torch


def _image(*shape: int, seed: int = 0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return 0.2 + 0.6 * torch.rand(*shape, generator=generator, dtype=dtype)


# --- psnr ----------------------------------------------------------------------------------

@pytest.mark.parametrize('shape', [(16, 16), (3, 16, 16), (2, 3, 8, 8), (2, 2, 1, 4, 4)])
def test_psnr_of_a_constant_offset_of_one_tenth_is_20_db(shape):
    gt = _image(*shape)
    assert psnr(gt + 0.1, gt) == pytest.approx(20.0, abs=1e-9)
    assert psnr(gt - 0.1, gt) == pytest.approx(20.0, abs=1e-9)


def test_psnr_float32_and_max_value():
    gt = _image(3, 8, 8, dtype=torch.float32)
    assert psnr(gt + 0.1, gt) == pytest.approx(20.0, abs=1e-4)
    assert psnr(255.0 * gt + 25.5, 255.0 * gt, max_value=255.0) == pytest.approx(20.0, abs=1e-4)
    assert psnr(gt + 0.1, gt, max_value=2.0) == pytest.approx(20.0 + 20.0 * math.log10(2.0))


def test_psnr_is_the_mean_of_per_image_values_not_of_the_pooled_mse():
    gt = _image(2, 3, 8, 8)
    pred = gt + torch.tensor([0.1, 0.01], dtype=torch.float64).view(2, 1, 1, 1)
    # Per image: 20 dB and 40 dB. Pooled MSE would give 10 log10(1 / 0.00505) ~ 22.97 dB.
    assert psnr(pred, gt) == pytest.approx(30.0)


def test_psnr_of_identical_images_is_infinite():
    gt = _image(3, 8, 8)
    assert psnr(gt, gt) == math.inf
    assert psnr(gt.clone(), gt) == math.inf


@pytest.mark.parametrize(
    'pred, gt, name',
    [
        (torch.zeros(8), torch.zeros(8), 'pred'),
        (torch.zeros(3, 8, 8), torch.zeros(3, 8, 7), 'gt'),
        (torch.zeros(0, 8), torch.zeros(0, 8), 'pred'),
        (torch.full((4, 4), float('nan')), torch.zeros(4, 4), 'pred'),
        (torch.zeros(4, 4), torch.full((4, 4), float('inf')), 'gt'),
        (torch.zeros(4, 4), np.zeros((4, 4)), 'gt'),
    ],
)
def test_psnr_rejects_bad_images(pred, gt, name):
    with pytest.raises(ShapeError, match=f'^{name}:'):
        psnr(pred, gt)


@pytest.mark.parametrize('max_value', [0.0, -1.0, float('nan'), float('inf'), 'one'])
def test_psnr_rejects_bad_max_value(max_value):
    with pytest.raises(ConfigError, match='^max_value:'):
        psnr(torch.zeros(4, 4), torch.ones(4, 4), max_value=max_value)


# --- ssim ----------------------------------------------------------------------------------

def _ssim_numpy(pred: np.ndarray, gt: np.ndarray, max_value: float = 1.0) -> float:
    """Wang et al. 2004 SSIM by explicit loops over windows, as an independent reference."""
    offsets = np.arange(11) - 5.0
    profile = np.exp(-offsets ** 2 / (2 * 1.5 ** 2))
    window = np.outer(profile, profile)
    window /= window.sum()
    c1, c2 = (0.01 * max_value) ** 2, (0.03 * max_value) ** 2
    values = []
    for x_channel, y_channel in zip(pred.reshape(-1, *pred.shape[-2:]),
                                    gt.reshape(-1, *gt.shape[-2:]), strict=True):
        rows, cols = x_channel.shape
        for i in range(rows - 10):
            for j in range(cols - 10):
                x = x_channel[i:i + 11, j:j + 11]
                y = y_channel[i:i + 11, j:j + 11]
                mx, my = (window * x).sum(), (window * y).sum()
                vx = (window * (x - mx) ** 2).sum()
                vy = (window * (y - my) ** 2).sum()
                cxy = (window * (x - mx) * (y - my)).sum()
                values.append(((2 * mx * my + c1) * (2 * cxy + c2))
                              / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2)))
    return float(np.mean(values))


def test_gaussian_window_is_normalised_and_symmetric():
    window = gaussian_window()
    assert window.shape == (11, 11)
    assert float(window.sum()) == pytest.approx(1.0)
    assert torch.allclose(window, window.T)
    assert torch.allclose(window, window.flip(0))
    assert int(window.argmax()) == 5 * 11 + 5
    # Ratio between the centre and its neighbour is exp(-1 / (2 sigma^2)) per axis.
    assert float(window[5, 6] / window[5, 5]) == pytest.approx(math.exp(-1.0 / 4.5))


def test_ssim_of_identical_images_is_one():
    image = _image(2, 3, 16, 20)
    assert ssim(image, image) == pytest.approx(1.0, abs=1e-12)
    assert ssim(image.float(), image.float()) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize('mu_x, mu_y', [(0.3, 0.7), (0.5, 0.5), (0.0, 1.0), (0.9, 0.1)])
def test_ssim_of_two_constant_images_matches_the_luminance_term(mu_x, mu_y):
    pred = torch.full((1, 1, 12, 12), mu_x, dtype=torch.float64)
    gt = torch.full((1, 1, 12, 12), mu_y, dtype=torch.float64)
    c1 = 0.01 ** 2
    expected = (2 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1)
    assert ssim(pred, gt) == pytest.approx(expected, abs=1e-9)


def test_ssim_matches_a_direct_numpy_implementation():
    pred = _image(2, 2, 13, 14, seed=1)
    noise = 0.05 * torch.randn(2, 2, 13, 14, generator=torch.Generator().manual_seed(2),
                               dtype=torch.float64)
    gt = 0.7 * pred + 0.2 + noise
    expected = _ssim_numpy(pred.numpy(), gt.numpy())
    assert 0.0 < expected < 0.99
    assert ssim(pred, gt) == pytest.approx(expected, abs=1e-10)
    assert ssim(gt, pred) == pytest.approx(expected, abs=1e-10)
    assert ssim(pred.float(), gt.float()) == pytest.approx(expected, abs=1e-5)
    shifted = ssim(255.0 * pred, 255.0 * gt, max_value=255.0)
    assert shifted == pytest.approx(expected, abs=1e-10)


def test_ssim_of_a_contrast_change_is_below_one_and_matches_numpy():
    # Halving the contrast about the global mean keeps structure but lowers SSIM.
    pred = _image(1, 1, 11, 11, seed=3)
    gt = 0.5 * (pred - pred.mean()) + pred.mean()
    expected = _ssim_numpy(pred.numpy(), gt.numpy())
    assert ssim(pred, gt) == pytest.approx(expected, abs=1e-12)
    assert ssim(pred, gt) < 1.0


def test_ssim_single_image_equals_batch_of_one():
    pred = _image(3, 12, 12, seed=4)
    gt = _image(3, 12, 12, seed=5)
    assert ssim(pred, gt) == pytest.approx(ssim(pred[None], gt[None]), abs=1e-15)


@pytest.mark.parametrize(
    'pred, gt, name',
    [
        (torch.zeros(12, 12), torch.zeros(12, 12), 'pred'),
        (torch.zeros(1, 1, 1, 12, 12), torch.zeros(1, 1, 1, 12, 12), 'pred'),
        (torch.zeros(1, 10, 12), torch.zeros(1, 10, 12), 'pred'),
        (torch.zeros(1, 12, 12), torch.zeros(2, 12, 12), 'gt'),
        (torch.zeros(0, 1, 12, 12), torch.zeros(0, 1, 12, 12), 'pred'),
        (torch.zeros(1, 12, 12), torch.full((1, 12, 12), float('nan')), 'gt'),
        (torch.zeros(1, 12, 12, dtype=torch.bool), torch.zeros(1, 12, 12), 'pred'),
    ],
)
def test_ssim_rejects_bad_images(pred, gt, name):
    with pytest.raises(ShapeError, match=f'^{name}:'):
        ssim(pred, gt)
