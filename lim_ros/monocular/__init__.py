"""
Monocular input: K extra views of one camera's image from a multi-view diffusion model.

`load_generator` gives a `MultiViewGenerator` from our checkpoint or a local diffusers
pipeline folder (Zero123++ style); its views and cameras go to the LRM with the input view.
diffusers is imported only when a generator is loaded.
"""

from lim_ros.monocular.loading import load_generator, load_local_pipeline, PipelineGenerator
from lim_ros.monocular.views import (
    check_orbit_camera,
    GeneratedViews,
    MultiViewGenerator,
    target_cameras,
    ViewLayout,
)

__all__ = ['check_orbit_camera', 'GeneratedViews', 'load_generator', 'load_local_pipeline',
           'MultiViewGenerator', 'PipelineGenerator', 'target_cameras', 'ViewLayout']
