"""Tests of the optical-flow image interpolation baseline."""

from lim_ros.interp.optical_flow import FlowInterpolator
from lim_ros.metrics import psnr
import pytest
import torch


def _disc(centre_x: float, size: int = 64, radius: float = 9.0) -> torch.Tensor:
    """Return one view (1, 3, size, size): a shaded disc on a white background."""
    ys, xs = torch.meshgrid(torch.arange(size, dtype=torch.float32),
                            torch.arange(size, dtype=torch.float32), indexing='ij')
    r = ((xs - centre_x) ** 2 + (ys - size / 2) ** 2).sqrt()
    inside = (r < radius).float()
    shade = 0.2 + 0.6 * (xs - centre_x + radius) / (2 * radius)  # texture for the flow
    image = inside * shade + (1.0 - inside)
    return torch.stack([image, 0.5 * image + 0.5 * inside, image])[None]


def test_a_moving_disc_is_placed_between_the_keyframes():
    # 8 pixels of motion on a 64-pixel view; DIS underestimates much larger steps of so small
    # an object, which is what the benchmark's large-motion split shows
    flow = FlowInterpolator()
    first, last, middle = _disc(28.0), _disc(36.0), _disc(32.0)
    interpolated = flow(first, last, 0.5)
    blended = 0.5 * (first + last)
    assert interpolated.shape == first.shape
    assert psnr(interpolated, middle) > psnr(blended, middle) + 3.0


def test_alpha_zero_and_one_return_the_keyframes():
    flow = FlowInterpolator()
    first, last = _disc(24.0), _disc(36.0)
    assert torch.allclose(flow(first, last, 0.0), first, atol=1e-5)
    assert torch.allclose(flow(first, last, 1.0), last, atol=1e-5)


def test_mismatched_views_are_refused():
    with pytest.raises(ValueError, match='rgb0, rgb1'):
        FlowInterpolator()(_disc(24.0), _disc(24.0, size=32), 0.5)
