"""
Prior views for a generator: what the LRM makes of the input view alone, seen from the targets.

The LRM reconstructs the single input view (the direct monocular path); its SDF is sampled on
a grid and sphere-traced from the K target cameras with the world renderer's shading, so the
renders look like the LRM's training views. Cameras are in the unit cube of the volume; views
are RGB in [0, 1], object on white.
"""

from dataclasses import dataclass

from lim_ros.cameras import Cameras
from lim_ros.engine.assets import DEFAULT_LRM, model_path
from lim_ros.engine.extraction import triplane_field
from lim_ros.models.lrm import load_lrm, LRM
from lim_ros.render.sphere_tracer import render
import torch


@dataclass
class RenderedPrior:
    """The LRM on one view, rendered at other cameras (a generator's ``prior: lrm_render``)."""

    lrm: LRM
    grid_resolution: int = 48

    @torch.no_grad()
    def views(self, view: torch.Tensor, camera: Cameras, targets: Cameras) -> torch.Tensor:
        """Return renders (K, 3, H, W) at ``targets`` of the LRM on ``view`` (3, H, W)."""
        device = next(self.lrm.parameters()).device
        planes = self.lrm.reconstruct(view[None].to(device), camera.to(device)).planes
        field = triplane_field(self.lrm.decode, planes, self.grid_resolution)
        return render(field, targets.to('cpu'), 0.0).rgb


def load_prior(lrm: str, grid_resolution: int,
               device: torch.device | str = 'cpu') -> RenderedPrior:
    """Load the prior of LRM ``lrm``: a path, or the file name of a shipped model."""
    return RenderedPrior(load_lrm(model_path(lrm, DEFAULT_LRM), device), grid_resolution)
