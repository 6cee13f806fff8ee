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
import torch.nn.functional as F


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
    Evaluate a field on the grid and return it as an (R, R, R[, C]) tensor indexed [i, j, k].

    ``fn`` maps points (N, 3) float32 on ``device`` to values (N,) or (N, C); it may be a model,
    and runs under ``torch.no_grad()`` on at most ``chunk`` points at a time, so the full
    (R^3, 3) point array is never built. The result has the dtype of ``fn``'s output and lives
    on ``device``.

    :raises ConfigError: on a bad resolution, half_size or chunk.
    :raises ShapeError: if ``fn`` returns something other than a tensor of shape (N,) or (N, C).
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
            channels = tuple(pieces[0].shape[1:]) if pieces else None
            if not isinstance(values, torch.Tensor) or values.shape[0] != flat.shape[0] \
                    or values.dim() > 2 or channels not in (None, tuple(values.shape[1:])):
                got = tuple(values.shape) if isinstance(values, torch.Tensor) else type(values)
                raise ShapeError(f'fn: expected output of shape ({flat.shape[0]},) or '
                                 f'({flat.shape[0]}, C), got {got}')
            pieces.append(values.to(axis.device))
    values = torch.cat(pieces)
    return values.reshape(resolution, resolution, resolution, *values.shape[1:])


def evaluate_near_surface(
    fn: Callable[[torch.Tensor], torch.Tensor],
    resolution: int,
    coarse_resolution: int,
    level: float = 0.0,
    chunk: int = 65536,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """
    Evaluate a field on the (R, R, R[, C]) grid exactly near its ``level`` set, coarsely elsewhere.

    ``fn`` returns (N,) values, or (N, C) whose channel 0 is the field that has the level set
    (the others, such as colour, are evaluated where it is). Coarse to fine: ``fn`` runs on
    the coarse grid (Rc per side); coarse cells whose corners straddle the level, and their
    neighbours (one cell of dilation), are evaluated at every fine sample inside them; the
    other fine samples take the coarse field, trilinearly upsampled (vertex-centred grids, so
    ``align_corners=True`` maps them exactly). Those samples keep the sign of their coarse
    neighbours, so marching cubes finds the same surface as on the full grid, except for
    parts thinner than about one coarse cell that no coarse sample sees. Cost: Rc^3
    evaluations plus the fine samples in the band.
    """
    _check_grid_args(coarse_resolution, 1.0)
    if coarse_resolution >= resolution:
        return evaluate_on_grid(fn, resolution, chunk=chunk, device=device)
    coarse = evaluate_on_grid(fn, coarse_resolution, chunk=chunk, device=device)
    channels = coarse.shape[3:]
    by_channel = coarse.reshape(*coarse.shape[:3], -1).movedim(-1, 0)  # (C or 1, Rc, Rc, Rc)
    inside = (by_channel[0] < level).float()[None, None]
    # a cell straddles the level when its 8 corners are neither all inside nor all outside
    any_inside = F.max_pool3d(inside, 2, stride=1)
    any_outside = F.max_pool3d(1.0 - inside, 2, stride=1)
    band = F.max_pool3d(any_inside * any_outside, 3, stride=1, padding=1)[0, 0] > 0
    values = F.interpolate(by_channel[None].float(), size=(resolution,) * 3, mode='trilinear',
                           align_corners=True)[0].movedim(0, -1).to(coarse.dtype)
    cell = (torch.arange(resolution, device=coarse.device) * (coarse_resolution - 1)
            // (resolution - 1)).clamp(max=coarse_resolution - 2)
    in_band = band[cell[:, None, None], cell[None, :, None], cell[None, None, :]]
    # fine samples on a cell face belong to two cells: take the band of both
    lower = (cell - 1).clamp(min=0)
    on_face = (torch.arange(resolution, device=coarse.device) * (coarse_resolution - 1)
               % (resolution - 1)) == 0
    lower = torch.where(on_face, lower, cell)
    in_band |= band[lower[:, None, None], lower[None, :, None], lower[None, None, :]]
    flat = in_band.reshape(-1).nonzero(as_tuple=True)[0]
    axis = grid_axis(resolution, 1.0, coarse.device)
    exact = values.reshape(resolution ** 3, *channels)
    with torch.no_grad():
        for start in range(0, flat.shape[0], chunk):
            index = flat[start:start + chunk]
            exact[index] = fn(_points_of(index, axis)).to(exact.dtype)
    return exact.reshape(resolution, resolution, resolution, *channels)


def sample_grid(grid: torch.Tensor, points: torch.Tensor, half_size: float = 1.0) -> torch.Tensor:
    """
    Read a grid (R, R, R[, C]) trilinearly at points (N, 3): values (N[, C]).

    Points outside the box read the nearest border value; differentiable in the points.
    """
    by_channel = grid.reshape(*grid.shape[:3], -1).movedim(-1, 0)  # (C or 1, R, R, R)
    coords = (points / half_size).flip(-1)  # grid_sample wants (W, H, D) = (z, y, x)
    sampled = F.grid_sample(by_channel[None].to(points), coords[None, None, None],
                            mode='bilinear', padding_mode='border', align_corners=True)
    return sampled.reshape(by_channel.shape[0], -1).T.reshape(-1, *grid.shape[3:])
