"""
Meshes to files: binary PLY with per-vertex colours, and Wavefront OBJ, with NumPy only.

Convention: vertices are written as they are (float32, in the mesh's frame and units), faces
keep their winding (counter-clockwise seen from outside, as `lim_ros.geometry.mesh`).
Colours in [0, 1] become uint8 RGB in PLY (rounded) and the common ``v x y z r g b``
extension of OBJ (floats in [0, 1], read by MeshLab, Blender and trimesh); a mesh without
colours is written without them.
"""

from pathlib import Path

from lim_ros.errors import ShapeError
from lim_ros.geometry.mesh import Mesh
from lim_ros.wire.arrays import colour_bytes, unit_colours
import numpy as np


def _arrays(mesh: Mesh) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Return vertices (V, 3) float32, faces (F, 3) int64 and colours (V, 3) float32 or None."""
    if not isinstance(mesh, Mesh):
        raise ShapeError(f'mesh: expected a Mesh, got {type(mesh).__name__}')
    vertices = mesh.vertices.detach().cpu().numpy().astype(np.float32)
    faces = mesh.faces.detach().cpu().numpy().astype(np.int64)
    colours = None
    if mesh.vertex_colours is not None:
        colours = unit_colours(mesh.vertex_colours.detach().cpu().float().numpy(),
                               len(vertices), 'vertex_colours')
    return vertices, faces, colours


def write_ply(path: Path, mesh: Mesh) -> Path:
    """
    Write ``mesh`` as binary little-endian PLY (``x y z`` float, ``red green blue`` uchar).

    :return: ``path``.
    :raises ShapeError: for colours outside [0, 1].
    """
    vertices, faces, colours = _arrays(mesh)
    vertex_fields = [('x', '<f4'), ('y', '<f4'), ('z', '<f4')]
    if colours is not None:
        vertex_fields += [('red', 'u1'), ('green', 'u1'), ('blue', 'u1')]
    vertex = np.empty(len(vertices), dtype=vertex_fields)
    for axis, name in enumerate('xyz'):
        vertex[name] = vertices[:, axis]
    if colours is not None:
        rgb = colour_bytes(colours, len(vertices), 'vertex_colours')
        for channel, name in enumerate(('red', 'green', 'blue')):
            vertex[name] = rgb[:, channel]
    face = np.empty(len(faces), dtype=[('n', 'u1'), ('index', '<i4', (3,))])
    face['n'] = 3
    face['index'] = faces
    properties = ''.join(f'property {"float" if kind == "<f4" else "uchar"} {name}\n'
                         for name, kind in vertex_fields)
    header = ('ply\nformat binary_little_endian 1.0\ncomment lim_ros\n'
              f'element vertex {len(vertices)}\n{properties}'
              f'element face {len(faces)}\nproperty list uchar int vertex_indices\nend_header\n')
    path = Path(path)
    path.write_bytes(header.encode('ascii') + vertex.tobytes() + face.tobytes())
    return path


def write_obj(path: Path, mesh: Mesh) -> Path:
    """
    Write ``mesh`` as Wavefront OBJ (``v x y z [r g b]`` lines, then 1-based ``f a b c``).

    :return: ``path``.
    :raises ShapeError: for colours outside [0, 1].
    """
    vertices, faces, colours = _arrays(mesh)
    rows = vertices if colours is None else np.concatenate([vertices, colours], axis=1)
    path = Path(path)
    with path.open('w') as f:
        f.write('# lim_ros\n')
        np.savetxt(f, rows, fmt='v' + ' %.6g' * rows.shape[1])
        np.savetxt(f, faces + 1, fmt='f %d %d %d')
    return path
