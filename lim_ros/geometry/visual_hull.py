"""
Shape from silhouettes: the visual hull, the classical reference for multi-view reconstruction.

Convention: cameras are `lim_ros.cameras.Cameras` (OpenCV, camera-to-world poses, pixel (u, v)
covering [u, u+1) x [v, v+1)); masks are (V, 1, H, W) with 1 on the object and are read at
the NEAREST pixel, i.e. the pixel containing the projection, and thresholded at 0.5. A world
point (N, 3) is occupied when, in EVERY view, it lies in front of the camera, projects inside
the image and lands on a mask pixel. A point that projects outside any image (or behind any
camera) is EMPTY: the hull is carved to the intersection of the viewing frusta, so it never
claims space that some camera could not check. Up to pixel discretisation the hull is a
superset of the true object inside that intersection: a point within about half a pixel's
footprint of the silhouette can land on a background pixel and be carved. ``dilation`` grows
the masks by that many pixels first (a conservative hull: with 1 pixel, no true point is lost
to discretisation, at the price of a hull about one pixel fatter).
"""

from lim_ros.cameras import Cameras
from lim_ros.errors import check_shape, ConfigError, ShapeError
from lim_ros.geometry.grid import evaluate_on_grid
import torch


def _check_finite(name: str, value: torch.Tensor, expected: tuple[int | None, ...]) -> None:
    """Raise ShapeError naming `name` unless `value` is a finite tensor of `expected` shape."""
    if not isinstance(value, torch.Tensor):
        raise ShapeError(f'{name}: expected a torch.Tensor, got {type(value).__name__}')
    check_shape(name, tuple(value.shape), expected)
    if value.dtype == torch.bool or not bool(torch.isfinite(value).all()):
        raise ShapeError(f'{name}: expected finite real values, got dtype {value.dtype} '
                         'or NaN/inf')


def _check_views(masks: torch.Tensor, cameras: Cameras, points: torch.Tensor) -> None:
    """Validate masks (V, 1, H, W) against the cameras and points (N, 3)."""
    if not isinstance(cameras, Cameras):
        raise ShapeError(f'cameras: expected Cameras, got {type(cameras).__name__}')
    _check_finite('masks', masks, (len(cameras), 1, cameras.height, cameras.width))
    _check_finite('points', points, (None, 3))


def _pixels_on_mask(
    masks: torch.Tensor, cameras: Cameras, points: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """
    Return, per view and point, the flat pixel index (V, N) and whether it is on the mask.

    Also return whether the point projects inside the image in front of the camera (V, N).
    """
    pixels, depth = cameras.project(points.to(cameras.K))
    column = torch.floor(pixels[..., 0])
    row = torch.floor(pixels[..., 1])
    in_image = (depth > 0) & (column >= 0) & (column < cameras.width) & (row >= 0) \
        & (row < cameras.height)
    column = column.clamp(0, cameras.width - 1).long()
    row = row.clamp(0, cameras.height - 1).long()
    flat = row * cameras.width + column  # (V, N); meaningful where in_image
    on_mask = masks.reshape(len(cameras), -1).gather(1, flat) > 0.5
    return flat, in_image, in_image & on_mask


def _dilated(masks: torch.Tensor, dilation: int) -> torch.Tensor:
    """Return masks grown by `dilation` pixels (max over a square window); validate it."""
    if isinstance(dilation, bool) or not isinstance(dilation, int) or dilation < 0:
        raise ConfigError(f'dilation: expected a non-negative integer of pixels, got {dilation!r}')
    if dilation == 0:
        return masks
    size = 2 * dilation + 1
    return torch.nn.functional.max_pool2d(masks.float(), size, stride=1, padding=dilation)


def visual_hull_occupancy(
    masks: torch.Tensor, cameras: Cameras, points: torch.Tensor, dilation: int = 0
) -> torch.Tensor:
    """
    Return whether each world point (N, 3) is inside the visual hull: bool (N,).

    A point is occupied when it projects, in front of the camera, inside the image and onto
    the mask (> 0.5, nearest pixel, after growing it by ``dilation`` pixels) in every view; a
    point outside any image is empty.

    :raises ShapeError: if masks is not (V, 1, H, W) for these cameras or points not (N, 3),
        or either holds NaN or inf.
    :raises ConfigError: if ``dilation`` is not a non-negative integer.
    """
    _check_views(masks, cameras, points)
    _, _, on_mask = _pixels_on_mask(_dilated(masks, dilation), cameras, points)
    return on_mask.all(dim=0).to(points.device)


def _gaussian_blur3d(grid: torch.Tensor, sigma: float, outside: float) -> torch.Tensor:
    """Blur an (R, R, R) grid with a separable Gaussian (sigma in cells), padding `outside`."""
    radius = max(1, int(round(3.0 * sigma)))
    offsets = torch.arange(-radius, radius + 1, dtype=grid.dtype, device=grid.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    volume = grid[None, None]
    for axis in range(3):
        shape = [1, 1, 1, 1, 1]
        shape[2 + axis] = kernel.numel()
        pad = [0, 0, 0, 0, 0, 0]
        pad[2 * (2 - axis)] = pad[2 * (2 - axis) + 1] = radius
        volume = torch.nn.functional.pad(volume, pad, value=outside)
        volume = torch.nn.functional.conv3d(volume, kernel.reshape(shape))
    return volume[0, 0]


def visual_hull_sdf_grid(
    masks: torch.Tensor,
    cameras: Cameras,
    resolution: int,
    half_size: float = 1.0,
    sigma: float = 1.0,
    dilation: int = 0,
) -> torch.Tensor:
    """
    Return a signed pseudo-field (R, R, R) of the visual hull, negative inside, for extract_mesh.

    The hull's occupancy on the grid of `lim_ros.geometry.grid` becomes ``+0.5`` outside and
    ``-0.5`` inside, then is blurred by a Gaussian of ``sigma`` cells (0 disables it; the box
    outside the grid counts as empty). Its 0 level sits where the smoothed indicator crosses
    one half, which lies on the carved boundary to sub-cell accuracy on flat and gently curved
    pieces, so marching cubes gives a smooth surface instead of voxel stairs. It is NOT a
    distance: only its sign and its 0 level mean anything. Parts thinner than about ``sigma``
    cells may shrink or vanish.

    :raises ShapeError: on bad masks (see `visual_hull_occupancy`).
    :raises ConfigError: on a negative ``sigma`` or ``dilation``, or a bad grid size.
    """
    _check_views(masks, cameras, torch.zeros(1, 3))
    masks = _dilated(masks, dilation)

    def field(points: torch.Tensor) -> torch.Tensor:
        _, _, on_mask = _pixels_on_mask(masks, cameras, points)
        return on_mask.all(dim=0)

    return occupancy_sdf_grid(evaluate_on_grid(field, resolution, half_size,
                                               device=masks.device), sigma)


def occupancy_sdf_grid(occupancy: torch.Tensor, sigma: float = 1.0) -> torch.Tensor:
    """
    Return the signed pseudo-field (R, R, R) of `visual_hull_sdf_grid` from an occupancy grid.

    ``+0.5`` outside, ``-0.5`` inside, blurred by a Gaussian of ``sigma`` cells (0: no blur).

    :raises ConfigError: on a negative ``sigma``.
    """
    if isinstance(sigma, bool) or not isinstance(sigma, (int, float)) or not sigma >= 0.0:
        raise ConfigError(f'sigma: expected a non-negative number of cells, got {sigma!r}')
    grid = 0.5 - occupancy.float()
    return _gaussian_blur3d(grid, sigma, outside=0.5) if sigma > 0.0 else grid


def visual_hull_colours(
    rgb: torch.Tensor,
    masks: torch.Tensor,
    cameras: Cameras,
    points: torch.Tensor,
    fill: float = 0.0,
) -> torch.Tensor:
    """
    Return the mean colour (N, 3) over the views where each point projects onto the mask.

    No visibility reasoning: a view counts even when the point is hidden behind other surface
    in it, so colours blur across occluders. Each view is read at the nearest pixel. Points
    that land on the mask in no view get ``fill`` in every channel.

    :raises ShapeError: if rgb is not (V, 3, H, W), or masks and points are bad.
    """
    _check_views(masks, cameras, points)
    _check_finite('rgb', rgb, (len(cameras), 3, cameras.height, cameras.width))
    flat, _, on_mask = _pixels_on_mask(masks, cameras, points)
    colours = rgb.reshape(len(cameras), 3, -1).to(cameras.K)
    gathered = colours.gather(2, flat[:, None, :].expand(-1, 3, -1))  # (V, 3, N)
    weight = on_mask.to(gathered.dtype)[:, None, :]
    count = weight.sum(dim=0)  # (1, N)
    mean = (gathered * weight).sum(dim=0) / count.clamp_min(1.0)
    mean = torch.where(count > 0, mean, torch.full_like(mean, fill))
    return mean.T.to(points.device)
