"""
Triangle meshes, and their extraction from an SDF grid by marching cubes.

Convention: vertices are in the volume frame (metres, or the models' unit cube), faces index
vertices with counter-clockwise winding seen from outside, so the right-hand normal
``(b - a) x (c - a)`` points OUT of the solid and a closed mesh has positive signed volume.
Fields are negative inside (SDF convention), and the surface is the ``level`` iso-set.
"""

from dataclasses import dataclass
import math

from lim_ros.errors import check_shape, ShapeError
from lim_ros.geometry.grid import grid_spacing
from lim_ros.metrics import sample_mesh_surface
import numpy as np
import torch


@dataclass(frozen=True)
class Mesh:
    """An indexed triangle mesh with optional per-vertex colours; all tensors on one device."""

    vertices: torch.Tensor  # (V, 3) float32
    faces: torch.Tensor  # (F, 3) int64, indices in [0, V)
    vertex_colours: torch.Tensor | None = None  # (V, 3) float32 RGB in [0, 1]

    def __post_init__(self) -> None:
        """Validate shapes, dtypes, devices, finiteness and index range."""
        for name in ('vertices', 'faces', 'vertex_colours'):
            value = getattr(self, name)
            if value is None and name == 'vertex_colours':
                continue
            if not isinstance(value, torch.Tensor):
                raise ShapeError(f'{name}: expected a torch.Tensor, got {type(value).__name__}')
            if value.device != self.vertices.device:
                raise ShapeError(f'{name}: expected device {self.vertices.device}, '
                                 f'got {value.device}')
            want = torch.int64 if name == 'faces' else torch.float32
            if value.dtype != want:
                raise ShapeError(f'{name}: expected dtype {want}, got {value.dtype}')
        check_shape('vertices', tuple(self.vertices.shape), (None, 3))
        num_vertices = self.vertices.shape[0]
        check_shape('faces', tuple(self.faces.shape), (None, 3))
        if self.vertex_colours is not None:
            check_shape('vertex_colours', tuple(self.vertex_colours.shape), (num_vertices, 3))
        if not bool(torch.isfinite(self.vertices).all()):
            raise ShapeError('vertices: expected finite coordinates, found NaN or inf')
        if self.faces.numel() and (int(self.faces.min()) < 0
                                   or int(self.faces.max()) >= num_vertices):
            raise ShapeError(f'faces: expected indices in [0, {num_vertices}), got range '
                             f'[{int(self.faces.min())}, {int(self.faces.max())}]')

    @property
    def num_vertices(self) -> int:
        """Return the number of vertices V."""
        return self.vertices.shape[0]

    @property
    def num_faces(self) -> int:
        """Return the number of faces F."""
        return self.faces.shape[0]

    def to(self, device: torch.device | str) -> 'Mesh':
        """Return a copy with every tensor on ``device``."""
        colours = None if self.vertex_colours is None else self.vertex_colours.to(device)
        return Mesh(self.vertices.to(device), self.faces.to(device), colours)

    def face_normals(self) -> torch.Tensor:
        """Return the unnormalised right-hand face normals (F, 3); length = 2 x face area."""
        a, b, c = self.vertices[self.faces].double().unbind(dim=1)
        return torch.linalg.cross(b - a, c - a)

    def area(self) -> float:
        """Return the total surface area, in squared units of the vertices."""
        return float(0.5 * torch.linalg.vector_norm(self.face_normals(), dim=-1).sum())

    def signed_volume(self) -> float:
        """
        Return the signed enclosed volume, sum over faces of ``a . (b x c) / 6``.

        Positive for a closed, outward-oriented mesh; only meaningful for closed meshes.
        """
        a, b, c = self.vertices[self.faces].double().unbind(dim=1)
        return float((a * torch.linalg.cross(b, c)).sum() / 6.0)

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """Return ``n`` points (n, 3) drawn uniformly by area on the surface."""
        return sample_mesh_surface(self.vertices, self.faces, n, generator)


def extract_mesh(sdf_grid: torch.Tensor, half_size: float = 1.0, level: float = 0.0) -> Mesh:
    """
    Extract the ``level`` iso-surface of a field on the grid of `lim_ros.geometry.grid`.

    ``sdf_grid`` (R, R, R) holds the field at ``(x_i, y_j, z_k)`` with
    ``x_i = -half_size + i * 2 half_size / (R - 1)`` (negative inside). Marching cubes
    (scikit-image, Lewiner) runs on CPU; vertices come back in the same world coordinates,
    float32, on the grid's device, faces wound so normals point outward (towards larger
    values). Where the surface meets the grid boundary the mesh is open there.

    :raises ShapeError: if ``sdf_grid`` is not a real (R, R, R) tensor with R >= 2, holds NaN
        or inf, or has an empty ``level`` set (all values above, or all below, the level).
    """
    if not isinstance(sdf_grid, torch.Tensor) or not sdf_grid.is_floating_point():
        got = sdf_grid.dtype if isinstance(sdf_grid, torch.Tensor) else type(sdf_grid).__name__
        raise ShapeError(f'sdf_grid: expected a floating-point torch.Tensor, got {got}')
    check_shape('sdf_grid', tuple(sdf_grid.shape),
                (sdf_grid.shape[0] if sdf_grid.dim() == 3 else None,) * 3)
    r = sdf_grid.shape[0]
    if r < 2:
        raise ShapeError(f'sdf_grid: expected resolution >= 2, got {r}')
    if not bool(torch.isfinite(sdf_grid).all()):
        raise ShapeError('sdf_grid: expected finite values, found NaN or inf')
    if not math.isfinite(level):
        raise ShapeError(f'level: expected a finite number, got {level!r}')
    low, high = float(sdf_grid.min()), float(sdf_grid.max())
    if not low < level < high:
        raise ShapeError(f'sdf_grid: the level set {level} is empty (values span '
                         f'[{low:.4g}, {high:.4g}], all on one side of the level)')

    from skimage.measure import marching_cubes

    spacing = grid_spacing(r, half_size)
    volume = sdf_grid.detach().to(device='cpu', dtype=torch.float32).numpy()
    vertices, faces, normals, _ = marching_cubes(
        volume, level=level, spacing=(spacing,) * 3, allow_degenerate=False
    )
    if faces.shape[0] == 0:
        raise ShapeError(f'sdf_grid: marching cubes found no triangles at level {level}')
    # Orientation: skimage's normals follow the gradient direction, and its winding convention
    # has changed between releases, so compare the winding with the outward normal (up the
    # field's gradient) per face and flip all faces if most disagree.
    corners = vertices[faces]
    winding = np.cross(corners[:, 1] - corners[:, 0], corners[:, 2] - corners[:, 0])
    gradient = -normals[faces].sum(axis=1)  # skimage's default 'descent' normals point down
    if float((winding * gradient).sum(axis=1).mean()) < 0.0:
        faces = faces[:, ::-1]
    world = torch.from_numpy(vertices.astype(np.float32) - np.float32(half_size))
    index = torch.from_numpy(np.ascontiguousarray(faces).astype(np.int64))
    return Mesh(world.to(sdf_grid.device), index.to(sdf_grid.device))
