"""
Regular sample grids over the reconstruction volume, and chunked evaluation of a field on them.

Convention: the grid is vertex-centred. Each axis holds R samples
``x_i = -half_size + i * spacing`` with ``spacing = 2 * half_size / (R - 1)``, so the first and
last samples lie exactly on the faces of the box [-half_size, half_size]^3 (volume frame,
metres; the models' unit cube when ``half_size = 1``). Grid value ``[i, j, k]`` is the field at
``(x_i, y_j, z_k)`` ('ij' indexing), and flattened points run with k fastest, as
``grid.reshape(-1)`` does. `lim_ros.geometry.mesh.extract_mesh` maps marching-cubes vertices
back to the world with the same convention.
"""

from collections.abc import Callable
import math

from lim_ros.errors import ConfigError, ShapeError
import torch


def _check_grid_args(resolution: int, half_size: float) -> None:
    """Raise ConfigError unless `resolution` is an int >= 2 and `half_size` positive, finite."""
    if isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 2:
        raise ConfigError(f'resolution: expected an integer >= 2, got {resolution!r}')
    if isinstance(half_size, bool) or not isinstance(half_size, (int, float)) \
            or not 0.0 < half_size < math.inf:
        raise ConfigError(f'half_size: expected a positive finite number, got {half_size!r}')


def grid_spacing(resolution: int, half_size: float = 1.0) -> float:
    """Return the distance between neighbouring samples, ``2 * half_size / (resolution - 1)``."""
    _check_grid_args(resolution, half_size)
    return 2.0 * half_size / (resolution - 1)


def grid_axis(
    resolution: int, half_size: float = 1.0, device: torch.device | str | None = None
) -> torch.Tensor:
    """Return the R sample coordinates (R,) of one axis, ``linspace(-half, half, R)``, float32."""
    _check_grid_args(resolution, half_size)
    return torch.linspace(-half_size, half_size, resolution, device=device)


def grid_points(
    resolution: int, half_size: float = 1.0, device: torch.device | str | None = None
) -> torch.Tensor:
    """
    Return all grid sample points (R^3, 3), float32, in 'ij' order (k, the z index, fastest).

    Row ``(i * R + j) * R + k`` is ``(x_i, y_j, z_k)``, so ``values.reshape(R, R, R)`` of a
    field evaluated on these points is indexed ``[i, j, k]``.
    """
    axis = grid_axis(resolution, half_size, device)
    x, y, z = torch.meshgrid(axis, axis, axis, indexing='ij')
    return torch.stack([x, y, z], dim=-1).reshape(-1, 3)


def _points_of(flat: torch.Tensor, axis: torch.Tensor) -> torch.Tensor:
    """Return the points (N, 3) of flat 'ij' indices (N,) on a grid with coordinates `axis`."""
    r = axis.shape[0]
    return torch.stack([axis[flat // (r * r)], axis[(flat // r) % r], axis[flat % r]], dim=-1)


def evaluate_on_grid(
    fn: Callable[[torch.Tensor], torch.Tensor],
    resolution: int,
    half_size: float = 1.0,
    chunk: int = 65536,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """
    Evaluate a scalar field on the grid and return it as an (R, R, R) tensor indexed [i, j, k].

    ``fn`` maps points (N, 3) float32 on ``device`` to values (N,); it may be a model, and runs
    under ``torch.no_grad()`` on at most ``chunk`` points at a time, so the full (R^3, 3) point
    array is never built. The result has the dtype of ``fn``'s output and lives on ``device``.

    :raises ConfigError: on a bad resolution, half_size or chunk.
    :raises ShapeError: if ``fn`` returns something other than a tensor of shape (N,).
    """
    _check_grid_args(resolution, half_size)
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ConfigError(f'chunk: expected a positive integer, got {chunk!r}')
    axis = grid_axis(resolution, half_size, device)
    total = resolution ** 3
    pieces: list[torch.Tensor] = []
    with torch.no_grad():
        for start in range(0, total, chunk):
            flat = torch.arange(start, min(start + chunk, total), device=axis.device)
            values = fn(_points_of(flat, axis))
            if not isinstance(values, torch.Tensor) or tuple(values.shape) != (flat.shape[0],):
                got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values)
                raise ShapeError(f'fn: expected output of shape ({flat.shape[0]},), got {got}')
            pieces.append(values.to(axis.device))
    return torch.cat(pieces).reshape(resolution, resolution, resolution)
