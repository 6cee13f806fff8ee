"""
Baking a colour field into the texture of a UV atlas, and a 3D checker field.

Convention: see `lim_ros.geometry.uv_atlas` (UV v = 0 at the texture's bottom row). Each texel
centre inside a chart's triangle takes the colour of the surface point it maps to (barycentric
in the triangle); texels outside every chart take the mean of their filled neighbours, a few
texels deep (``dilate``), so bilinear lookups at chart borders do not fetch the background.
"""

from collections.abc import Callable

from lim_ros.errors import check_shape, ConfigError, ShapeError
from lim_ros.geometry.uv_atlas import UVAtlas
import numpy as np
from PIL import Image, ImageDraw
import torch

ColourField = Callable[[torch.Tensor], torch.Tensor]  # points (N, 3) → RGB (N, 3) in [0, 1]


def face_index_map(atlas: UVAtlas, size: int) -> np.ndarray:
    """Return the (size, size) int32 map of the atlas face covering each texel, -1 where none."""
    image = Image.new('I', (size, size), -1)
    draw = ImageDraw.Draw(image)
    uvs = atlas.uvs.cpu().numpy().astype(np.float64)
    corners = uvs[atlas.faces.cpu().numpy()] * size  # (F, 3, 2) in texels
    corners[..., 1] = size - corners[..., 1]
    for face, triangle in enumerate(corners):
        draw.polygon([tuple(p) for p in triangle], fill=face)
    return np.asarray(image, dtype=np.int32)


def bake_texture(atlas: UVAtlas, vertices: torch.Tensor, colour: ColourField, size: int = 512,
                 dilate: int = 4) -> np.ndarray:
    """
    Return the (size, size, 3) uint8 texture of ``colour`` on the atlas' surface.

    ``vertices`` (V', 3) are the atlas vertices' positions in the frame ``colour`` expects.

    :raises ConfigError: on a size below 8 or a negative ``dilate``.
    :raises ShapeError: if ``vertices`` does not match the atlas, or ``colour`` returns
        something other than (N, 3).
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 8:
        raise ConfigError(f'texture_size: expected an integer >= 8, got {size!r}')
    if isinstance(dilate, bool) or not isinstance(dilate, int) or dilate < 0:
        raise ConfigError(f'dilate: expected an integer >= 0, got {dilate!r}')
    check_shape('vertices', tuple(vertices.shape), (atlas.num_vertices, 3))
    faces = face_index_map(atlas, size)
    rows, cols = np.nonzero(faces >= 0)
    face = faces[rows, cols]
    uv = np.stack([(cols + 0.5) / size, 1.0 - (rows + 0.5) / size], axis=-1)
    corners = atlas.uvs.cpu().numpy().astype(np.float64)[atlas.faces.cpu().numpy()[face]]
    weights = barycentric(uv, corners)
    points = torch.einsum('nk,nkd->nd', torch.from_numpy(weights).to(vertices),
                          vertices[atlas.faces[torch.from_numpy(face)].to(vertices.device)])
    with torch.no_grad():
        rgb = colour(points)
    check_shape('colour output', tuple(rgb.shape), (points.shape[0], 3))
    texture = np.zeros((size, size, 3), np.float32)
    texture[rows, cols] = rgb.detach().float().clamp(0.0, 1.0).cpu().numpy()
    filled = faces >= 0
    for _ in range(dilate):
        texture, filled = _grow(texture, filled)
    return np.round(texture * 255.0).astype(np.uint8)


def barycentric(points: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """
    Return barycentric weights (N, 3) of 2D points (N, 2) in triangles (N, 3, 2).

    Points outside (texels whose centre lies just off a rasterised edge) are clamped to the
    triangle; degenerate triangles give equal weights.
    """
    a, b, c = triangles[:, 0], triangles[:, 1], triangles[:, 2]
    v0, v1, v2 = b - a, c - a, points - a
    d00, d01, d11 = (v0 * v0).sum(-1), (v0 * v1).sum(-1), (v1 * v1).sum(-1)
    d20, d21 = (v2 * v0).sum(-1), (v2 * v1).sum(-1)
    det = d00 * d11 - d01 * d01
    ok = np.abs(det) > 1e-18
    safe = np.where(ok, det, 1.0)
    w1 = np.where(ok, (d11 * d20 - d01 * d21) / safe, 1.0 / 3.0)
    w2 = np.where(ok, (d00 * d21 - d01 * d20) / safe, 1.0 / 3.0)
    weights = np.clip(np.stack([1.0 - w1 - w2, w1, w2], axis=-1), 0.0, None)
    return weights / weights.sum(axis=-1, keepdims=True)


def _grow(texture: np.ndarray, filled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Fill empty texels next to filled ones with their filled 4-neighbours' mean."""
    total = np.zeros_like(texture)
    count = np.zeros(filled.shape, np.float32)
    for axis, shift in ((0, 1), (0, -1), (1, 1), (1, -1)):
        total += np.roll(texture * filled[..., None], shift, axis=axis)
        count += np.roll(filled, shift, axis=axis)
    grow = ~filled & (count > 0)
    texture = texture.copy()
    texture[grow] = total[grow] / count[grow][:, None]
    return texture, filled | grow


def checker(cell: float, dark: tuple[float, float, float] = (0.1, 0.1, 0.1),
            light: tuple[float, float, float] = (0.95, 0.85, 0.3)) -> ColourField:
    """
    Return a 3D checker colour field of cubes of edge ``cell`` (the points' units).

    :raises ConfigError: if ``cell`` is not positive.
    """
    if not isinstance(cell, (int, float)) or not cell > 0:
        raise ConfigError(f'cell: expected a positive length, got {cell!r}')

    def colour(points: torch.Tensor) -> torch.Tensor:
        if not isinstance(points, torch.Tensor):
            raise ShapeError(f'points: expected a torch.Tensor, got {type(points).__name__}')
        parity = torch.floor(points / cell).long().sum(dim=-1) % 2
        palette = torch.tensor([dark, light], dtype=torch.float32, device=points.device)
        return palette[parity]

    return colour
