"""Image grids and GIFs of generated sequences (several views x several times)."""

from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
from lim_ros.cameras import rig
from lim_ros.render.sphere_tracer import render
from lim_ros.world.families import make_object
import numpy as np
import torch


@dataclass(frozen=True)
class PreviewConfig:
    """What to render for one sequence preview."""

    family: str
    seed: int = 0
    num_views: int = 4
    times: tuple[float, ...] = (0.0, 0.5, 1.0, 1.5, 2.0)
    image_size: int = 128
    gif_frames: int = 24  # frames over [times[0], times[-1]]


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """Convert images (..., C, H, W) in [0, 1] to uint8 (..., H, W, C)."""
    array = images.detach().cpu().clamp(0.0, 1.0).movedim(-3, -1).numpy()
    return (array * 255.0 + 0.5).astype(np.uint8)


def grid(images: torch.Tensor, pad: int = 2) -> np.ndarray:
    """Tile images (R, C, 3, H, W) into one uint8 picture (R rows x C columns), white gaps."""
    rows, cols, _, h, w = images.shape
    tiles = to_uint8(images)
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), 255, np.uint8)
    for r in range(rows):
        for c in range(cols):
            y, x = pad + r * (h + pad), pad + c * (w + pad)
            out[y:y + h, x:x + w] = tiles[r, c]
    return out


def write_preview(cfg: PreviewConfig, out_dir: Path) -> list[Path]:
    """
    Write ``<family>_<seed>_grid.png`` (views x times), its canonical-XYZ twin and a GIF.

    Canonical XYZ is shown as colour ``(xyz + 1) / 2`` of each pixel's position at the first
    time, so a point keeping its colour across columns shows exact correspondence.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    obj = make_object(cfg.family, cfg.seed)
    cameras = rig(cfg.num_views, cfg.image_size)
    t_ref = cfg.times[0]
    renders = [render(obj, cameras, t, t_ref=t_ref) for t in cfg.times]
    rgb = torch.stack([r.rgb for r in renders], dim=1)  # (V, T, 3, H, W)
    canonical = torch.stack([(r.canonical + 1.0) / 2.0 * r.mask + (1 - r.mask) for r in renders],
                            dim=1)
    stem = f'{cfg.family}_{cfg.seed}'
    paths = [out_dir / f'{stem}_grid.png', out_dir / f'{stem}_canonical.png',
             out_dir / f'{stem}.gif']
    iio.imwrite(paths[0], grid(rgb))
    iio.imwrite(paths[1], grid(canonical))
    frames = []
    for t in np.linspace(cfg.times[0], cfg.times[-1], cfg.gif_frames):
        views = render(obj, cameras, float(t)).rgb
        frames.append(grid(views[None]))
    iio.imwrite(paths[2], np.stack(frames), duration=1000.0 * (cfg.times[-1] - cfg.times[0])
                / max(cfg.gif_frames - 1, 1), loop=0)
    return paths
