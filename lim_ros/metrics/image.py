"""
Image metrics for rendered views: PSNR and SSIM (Wang et al. 2004).

Both compute in float64 on the device of the inputs and return Python floats.
"""

import math

from lim_ros.errors import check_shape, ShapeError
from lim_ros.metrics.geometry import _check_real_tensor, _positive_finite
import torch
import torch.nn.functional as F  # noqa: N812

SSIM_WINDOW = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03


def _check_image_pair(pred: torch.Tensor, gt: torch.Tensor, ndims: range, layout: str) -> None:
    """Raise ShapeError unless `pred` and `gt` are equal-shape, finite images of `layout`."""
    for name, image in (('pred', pred), ('gt', gt)):
        _check_real_tensor(name, image)
        if image.ndim not in ndims:
            raise ShapeError(f'{name}: expected shape {layout}, got {tuple(image.shape)}')
    check_shape('gt', tuple(gt.shape), tuple(pred.shape))


def psnr(pred: torch.Tensor, gt: torch.Tensor, max_value: float = 1.0) -> float:
    """
    Compute the peak signal-to-noise ratio in dB, averaged over images.

    Convention: a 2-D input is one (H, W) image; otherwise the last three axes are (C, H, W)
    and every leading axis indexes images. Each image gets
    ``10 log10(max_value**2 / MSE)`` with the MSE over its C*H*W values, and the result is the
    mean over images (not the PSNR of the pooled MSE). An image identical to its reference has
    PSNR ``inf`` and so makes the mean ``inf``; nothing is capped. Values are not clipped to
    [0, max_value].

    :param pred: predicted image(s), shape (H, W) or (..., C, H, W), finite.
    :param gt: reference image(s), same shape as `pred`, finite.
    :param max_value: peak value of the image range (1.0 for images in [0, 1]).
    :returns: mean PSNR in dB, possibly ``inf``.
    :raises ShapeError: if the inputs are empty, not finite, have fewer than two axes or differ
        in shape.
    :raises ConfigError: if `max_value` is not a positive finite number.
    """
    max_value = _positive_finite('max_value', max_value)
    _check_image_pair(pred, gt, range(2, 64), '(H, W) or (..., C, H, W)')
    per_image = 2 if pred.ndim == 2 else 3
    pixels = math.prod(pred.shape[-per_image:])
    error = pred.detach().double() - gt.detach().to(pred.device).double()
    mse = error.reshape(-1, pixels).square().mean(dim=1)
    return float((10.0 * torch.log10(max_value ** 2 / mse)).mean())


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """Return a normalised 2-D Gaussian window of shape (size, size) in float64."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2.0
    profile = torch.exp(-offsets.square() / (2.0 * sigma ** 2))
    profile = profile / profile.sum()
    return torch.outer(profile, profile)


def ssim(pred: torch.Tensor, gt: torch.Tensor, max_value: float = 1.0) -> float:
    """
    Compute the structural similarity index (Wang et al. 2004), averaged over everything.

    Convention: the standard parameters, an 11x11 Gaussian window with sigma 1.5, K1 = 0.01,
    K2 = 0.03, ``C1 = (K1 L)**2``, ``C2 = (K2 L)**2`` with ``L = max_value``. Local means,
    variances and covariance are Gaussian-weighted (population, not sample, moments) and
    computed per channel with a valid convolution (no padding), so the SSIM map of an
    (H, W) channel is (H - 10, W - 10). The result is the mean of the map over pixels,
    channels and images. Inputs are (B, C, H, W) or a single (C, H, W) image.

    :param pred: predicted image(s), shape (B, C, H, W) or (C, H, W), H, W >= 11, finite.
    :param gt: reference image(s), same shape as `pred`, finite.
    :param max_value: dynamic range L of the images (1.0 for images in [0, 1]).
    :returns: mean SSIM, 1.0 for identical images.
    :raises ShapeError: if the inputs are empty, not finite, not 3-D/4-D, smaller than the
        window or differ in shape.
    :raises ConfigError: if `max_value` is not a positive finite number.
    """
    max_value = _positive_finite('max_value', max_value)
    _check_image_pair(pred, gt, range(3, 5), '(B, C, H, W) or (C, H, W)')
    height, width = pred.shape[-2:]
    if height < SSIM_WINDOW or width < SSIM_WINDOW:
        raise ShapeError(
            f'pred: expected H and W >= {SSIM_WINDOW} for the SSIM window, '
            f'got shape {tuple(pred.shape)}'
        )
    x = pred.detach().double()
    y = gt.detach().to(pred.device).double()
    if x.ndim == 3:
        x, y = x[None], y[None]
    channels = x.shape[1]
    window = gaussian_window().to(x.device).expand(channels, 1, SSIM_WINDOW, SSIM_WINDOW)

    def local_mean(image: torch.Tensor) -> torch.Tensor:
        return F.conv2d(image, window, groups=channels)

    mu_x = local_mean(x)
    mu_y = local_mean(y)
    var_x = local_mean(x * x) - mu_x.square()
    var_y = local_mean(y * y) - mu_y.square()
    cov_xy = local_mean(x * y) - mu_x * mu_y
    c1 = (SSIM_K1 * max_value) ** 2
    c2 = (SSIM_K2 * max_value) ** 2
    numerator = (2.0 * mu_x * mu_y + c1) * (2.0 * cov_xy + c2)
    denominator = (mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2)
    return float((numerator / denominator).mean())
