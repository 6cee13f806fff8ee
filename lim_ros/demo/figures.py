"""
Ground truth next to the reconstruction, seen from a camera the engine never saw.

Convention: the ground-truth object lives in the volume frame (metres); the reconstruction
is rendered from the engine's SDF grid in the unit cube of its `Volume`, with the novel
camera mapped there, so both pictures show the same view. Images are (3, H, W) in [0, 1],
rendered by the same sphere tracer, shading and background (`lim_ros.render`).
"""

from pathlib import Path

import imageio.v3 as iio
from lim_ros.cameras import Cameras, intrinsics, look_at, spherical
from lim_ros.data.preview import grid
from lim_ros.engine import ReconstructionEngine
from lim_ros.engine.extraction import triplane_field
from lim_ros.render.fields import Field, GridField
from lim_ros.render.sphere_tracer import render
import numpy as np
import torch


def novel_camera(size: int, azimuth_deg: float = 90.0, elevation_deg: float = 35.0,
                 radius: float = 3.0, fov_deg: float = 30.0) -> Cameras:
    """
    Return one camera looking at the volume centre from between the rig's views.

    The default rig (`lim_ros.cameras.rig`) looks from azimuths 45°, 135°, 225°, 315° at 20°
    elevation; 90° azimuth and 35° elevation is between and above two of them. The field of
    view is narrower than the rig's 40°, so the object fills more of the picture.
    """
    eye = spherical(torch.tensor([azimuth_deg]), torch.tensor([elevation_deg]),
                    torch.tensor([radius]))
    return Cameras(intrinsics(torch.tensor([fov_deg]), size, size), look_at(eye), size, size)


@torch.no_grad()
def reconstruction_field(engine: ReconstructionEngine, stamp_ns: int,
                         resolution: int) -> GridField:
    """Return the engine's shape at ``stamp_ns`` as a renderable field in the unit cube."""
    return triplane_field(engine.lrm.decode, engine.triplane(stamp_ns), resolution)


@torch.no_grad()
def render_pair(truth: Field, t: float, engine: ReconstructionEngine, stamp_ns: int,
                camera: Cameras, resolution: int) -> torch.Tensor:
    """Return (2, 3, H, W): the ground truth at object time ``t``, the engine at ``stamp_ns``."""
    expected = render(truth, camera, t).rgb[0]
    field = reconstruction_field(engine, stamp_ns, resolution)
    reconstructed = render(field, engine.volume.cameras_to_unit(camera), 0.0).rgb[0]
    return torch.stack([expected, reconstructed])


def write_figures(pairs: list[torch.Tensor], columns: list[int], out_dir: Path,
                  frame_s: float) -> tuple[Path, Path]:
    """
    Write ``preview.png`` and ``preview.gif`` of ``pairs`` (each (2, 3, H, W)).

    The PNG has two rows (ground truth, reconstruction) and the ``columns`` picked from
    ``pairs``; the GIF shows every pair side by side, ``frame_s`` seconds per frame.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    png, gif = out_dir / 'preview.png', out_dir / 'preview.gif'
    picked = torch.stack([pairs[i] for i in columns], dim=1)  # (2, C, 3, H, W)
    iio.imwrite(png, grid(picked))
    frames = np.stack([grid(pair[None]) for pair in pairs])
    iio.imwrite(gif, frames, duration=1000.0 * frame_s, loop=0)
    return png, gif
