"""
UV atlases of triangle meshes (xatlas), and textured meshes.

Convention: UVs are in [0, 1]^2 with v = 0 at the BOTTOM row of the texture image (OpenGL,
glTF flips it: see `lim_ros.geometry.track_export`); the texture is (H, W, 3) uint8 RGB with
row 0 at the top. xatlas cuts the surface into charts, so vertices on a seam are split: an
atlas has V' >= V vertices, each the copy of one source vertex (``source``), and its own faces
with the source mesh's winding.
"""

from dataclasses import dataclass
from functools import cached_property

from lim_ros.errors import check_shape, ShapeError
from lim_ros.geometry.mesh import Mesh
import numpy as np
import torch


@dataclass(frozen=True)
class UVAtlas:
    """A mesh's chart parametrisation: V' atlas vertices, each a copy of a source vertex."""

    source: torch.Tensor  # (V',) int64 index of the source mesh vertex
    faces: torch.Tensor  # (F, 3) int64 indices into the V' atlas vertices
    uvs: torch.Tensor  # (V', 2) float32 in [0, 1]

    def __post_init__(self) -> None:
        """Validate shapes and index ranges."""
        n = self.source.shape[0]
        check_shape('source', tuple(self.source.shape), (None,))
        check_shape('uvs', tuple(self.uvs.shape), (n, 2))
        check_shape('faces', tuple(self.faces.shape), (None, 3))
        if self.faces.numel() and (int(self.faces.min()) < 0 or int(self.faces.max()) >= n):
            raise ShapeError(f'faces: expected indices in [0, {n}), got range '
                             f'[{int(self.faces.min())}, {int(self.faces.max())}]')

    @property
    def num_vertices(self) -> int:
        """Return the number of atlas vertices V'."""
        return self.source.shape[0]

    def expand(self, source_vertices: torch.Tensor) -> torch.Tensor:
        """Return per-atlas-vertex values (V', ...) from per-source-vertex ones (V, ...)."""
        return source_vertices[self.source.to(source_vertices.device)]

    def collapse(self, atlas_vertices: torch.Tensor) -> torch.Tensor:
        """
        Return per-source-vertex values (V, ...) from per-atlas-vertex ones (V', ...).

        The inverse of `expand`: each source vertex takes its first copy's value, so every
        mesh vertex counts once however many charts its seams split it into.

        :raises ShapeError: if ``atlas_vertices`` is not (V', ...) or a source vertex below
            the largest one has no copy (the mesh had an unreferenced vertex).
        """
        check_shape('atlas_vertices', tuple(atlas_vertices.shape[:1]), (self.num_vertices,))
        return atlas_vertices[self._first_copies.to(atlas_vertices.device)]

    @cached_property
    def _first_copies(self) -> torch.Tensor:
        """Return each source vertex's first atlas vertex (V,), found once per atlas."""
        n = self.num_vertices
        count = int(self.source.max()) + 1 if n else 0
        first = torch.full((count,), n, dtype=torch.int64)
        first.scatter_reduce_(0, self.source, torch.arange(n), 'amin')
        if bool((first == n).any()):
            raise ShapeError('atlas: a source vertex has no copy, so values cannot be collapsed')
        return first


def unwrap(mesh: Mesh) -> UVAtlas:
    """
    Cut ``mesh`` into charts and pack them into the unit square with xatlas.

    :raises ShapeError: if ``mesh`` is not a `Mesh` with at least one face.
    """
    if not isinstance(mesh, Mesh):
        raise ShapeError(f'mesh: expected a Mesh, got {type(mesh).__name__}')
    if mesh.num_faces == 0:
        raise ShapeError('mesh: expected at least one face to unwrap, got 0')
    try:
        import xatlas
    except ImportError as e:
        raise ImportError('UV unwrapping needs the package xatlas (pip install xatlas)') from e
    vertices = mesh.vertices.detach().cpu().numpy().astype(np.float32)
    faces = mesh.faces.detach().cpu().numpy().astype(np.uint32)
    source, index, uvs = xatlas.parametrize(vertices, faces)
    return UVAtlas(torch.from_numpy(source.astype(np.int64)),
                   torch.from_numpy(index.astype(np.int64)),
                   torch.from_numpy(uvs.astype(np.float32)))
