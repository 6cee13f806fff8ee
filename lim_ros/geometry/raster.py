"""
A small z-buffer rasteriser of textured meshes, for figures (NumPy, CPU).

Convention: one OpenCV camera (x right, y down, z forward) from `lim_ros.cameras.Cameras`,
posed in the mesh's frame; UVs and texture as `lim_ros.geometry.uv_atlas` (v up, row 0 at the
top); nearest-texel lookup, shaded by a headlight (|cos| of the face normal and the view ray)
on a white background. One Python iteration per visible face: meant for meshes of a few
thousand faces, not for real-time use.
"""

from lim_ros.cameras import Cameras
from lim_ros.errors import check_shape, ShapeError
import numpy as np
import torch


def render_textured(vertices: torch.Tensor, faces: torch.Tensor, uvs: torch.Tensor,
                    texture: np.ndarray, cameras: Cameras, view: int = 0) -> np.ndarray:
    """
    Return the (H, W, 3) uint8 image of the textured mesh seen by camera ``view``.

    ``vertices`` (V, 3) in the cameras' frame, ``faces`` (F, 3) into them, ``uvs`` (V, 2).

    :raises ShapeError: on mismatched shapes or a texture that is not (S, T, 3) uint8.
    """
    check_shape('vertices', tuple(vertices.shape), (None, 3))
    check_shape('faces', tuple(faces.shape), (None, 3))
    check_shape('uvs', tuple(uvs.shape), (vertices.shape[0], 2))
    if not isinstance(texture, np.ndarray) or texture.dtype != np.uint8 or texture.ndim != 3 \
            or texture.shape[2] != 3:
        raise ShapeError('texture: expected an (S, T, 3) uint8 array, got '
                         f'{getattr(texture, "shape", type(texture).__name__)}')
    h, w = cameras.height, cameras.width
    cam_T_world = torch.linalg.inv(cameras.world_T_cam[view].double()).numpy()
    k = cameras.K[view].double().numpy()
    local = vertices.double().numpy() @ cam_T_world[:3, :3].T + cam_T_world[:3, 3]
    pixels = local @ k.T
    pixels = pixels[:, :2] / pixels[:, 2:3]
    tri = faces.numpy()
    normal = np.cross(local[tri[:, 1]] - local[tri[:, 0]], local[tri[:, 2]] - local[tri[:, 0]])
    centre = local[tri].mean(axis=1)
    shade = np.abs((normal * centre).sum(-1)) / (
        np.linalg.norm(normal, axis=-1) * np.linalg.norm(centre, axis=-1) + 1e-12)
    depth = np.full((h, w), np.inf)
    image = np.full((h, w, 3), 255.0)
    tex_h, tex_w = texture.shape[:2]
    uv = uvs.double().numpy()
    for f in np.argsort(-centre[:, 2]):
        corners = pixels[tri[f]]
        if (local[tri[f], 2] <= 1e-6).any():
            continue
        x0, y0 = np.floor(corners.min(axis=0)).astype(int).clip(0, [w - 1, h - 1])
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int).clip(0, [w - 1, h - 1])
        if x1 < x0 or y1 < y0:
            continue
        ys, xs = np.mgrid[y0:y1 + 1, x0:x1 + 1]
        p = np.stack([xs.ravel() + 0.5, ys.ravel() + 0.5], axis=-1)
        a, b, c = corners
        det = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1])
        if abs(det) < 1e-12:
            continue
        w1 = ((p[:, 0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (p[:, 1] - a[1])) / det
        w2 = ((b[0] - a[0]) * (p[:, 1] - a[1]) - (p[:, 0] - a[0]) * (b[1] - a[1])) / det
        weights = np.stack([1.0 - w1 - w2, w1, w2], axis=-1)
        inside = (weights >= -1e-9).all(axis=-1)
        if not inside.any():
            continue
        weights, px = weights[inside], p[inside].astype(int)
        z = weights @ local[tri[f], 2]
        nearer = z < depth[px[:, 1], px[:, 0]]
        weights, px, z = weights[nearer], px[nearer], z[nearer]
        depth[px[:, 1], px[:, 0]] = z
        st = weights @ uv[tri[f]]
        col = (st[:, 0] * tex_w).astype(int).clip(0, tex_w - 1)
        row = ((1.0 - st[:, 1]) * tex_h).astype(int).clip(0, tex_h - 1)
        image[px[:, 1], px[:, 0]] = texture[row, col] * (0.35 + 0.65 * shade[f])
    return np.round(image).astype(np.uint8)
