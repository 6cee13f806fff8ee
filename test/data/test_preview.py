"""Tests of sequence previews (image grids and GIFs)."""

import imageio.v3 as iio
from lim_ros.data.preview import grid, PreviewConfig, write_preview
import numpy as np
import torch


def test_grid_tiles_images_in_rows_and_columns():
    images = torch.zeros(2, 3, 3, 4, 5)
    images[1, 2] = 1.0
    out = grid(images, pad=1)
    assert out.shape == (2 * 5 + 1, 3 * 6 + 1, 3) and out.dtype == np.uint8
    assert (out[1 + 5 + 1:1 + 5 + 1 + 4, 1 + 2 * 6:1 + 2 * 6 + 5] == 255).all()
    assert (out[1:5, 1:6] == 0).all()


def test_preview_writes_grid_canonical_and_gif(tmp_path):
    cfg = PreviewConfig('starfish', seed=1, times=(0.0, 0.5, 1.0), image_size=32, gif_frames=3)
    grid_png, canonical_png, gif = write_preview(cfg, tmp_path)
    picture = iio.imread(grid_png)
    assert picture.shape == (4 * 34 + 2, 3 * 34 + 2, 3)
    assert (picture < 250).any()  # the object is drawn, not only background
    assert iio.imread(canonical_png).shape == picture.shape
    frames = iio.imread(gif, index=None)
    assert frames.shape[0] == 3
