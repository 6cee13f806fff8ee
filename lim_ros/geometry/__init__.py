"""
Geometry: sample grids, marching-cubes meshes, the visual hull and mesh files.

Convention: the volume frame (right-handed, metres; the models' unit cube [-1, 1]^3 when
``half_size = 1``), SDFs negative inside, meshes wound so normals point outward. See each
module's docstring for its details.
"""

from lim_ros.geometry.export import write_obj, write_ply
from lim_ros.geometry.grid import evaluate_on_grid, grid_axis, grid_points, grid_spacing
from lim_ros.geometry.mesh import extract_mesh, Mesh
from lim_ros.geometry.visual_hull import (
    occupancy_sdf_grid,
    visual_hull_colours,
    visual_hull_occupancy,
    visual_hull_sdf_grid,
)

__all__ = [
    'evaluate_on_grid',
    'extract_mesh',
    'grid_axis',
    'grid_points',
    'grid_spacing',
    'Mesh',
    'occupancy_sdf_grid',
    'visual_hull_colours',
    'visual_hull_occupancy',
    'visual_hull_sdf_grid',
    'write_obj',
    'write_ply',
]
