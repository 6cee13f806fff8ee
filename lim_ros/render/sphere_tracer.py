"""
Batched sphere tracing of a `DynamicObject` into RGB, depth, mask, normals and canonical XYZ.

Convention: images are (V, C, H, W) float32 on the cameras' device; depth is the camera-frame
z (metres, OpenCV) and 0 on the background; normals are world-frame unit vectors; canonical
XYZ is the world position at ``t_ref`` of the material seen in each pixel. Shading is
Lambertian with a headlight plus an ambient term: ``rgb = albedo (ambient + (1 - ambient)
max(0, n·l))`` where l points from the surface to the camera.

Rays start where they enter the volume [-1, 1]^3 and step by ``safety × sdf`` (the world SDF
is a pseudo-distance under deformation, hence a safety factor below 1).
"""

from dataclasses import dataclass

from lim_ros.cameras import Cameras
from lim_ros.render.fields import Field
import torch


@dataclass(frozen=True)
class RenderConfig:
    """Sphere-tracing and shading settings."""

    max_steps: int = 96
    safety: float = 0.7
    hit_epsilon: float = 1e-3
    grazing_epsilon: float = 1e-2
    ambient: float = 0.35
    background: float = 1.0
    chunk_rays: int = 65536


@dataclass(frozen=True)
class RenderOutput:
    """Rendered images of V views."""

    rgb: torch.Tensor  # (V, 3, H, W) in [0, 1], shaded
    albedo: torch.Tensor  # (V, 3, H, W) in [0, 1], the surface colour before shading
    depth: torch.Tensor  # (V, 1, H, W) metres, 0 on background
    mask: torch.Tensor  # (V, 1, H, W) 1 on the object, 0 elsewhere
    normals: torch.Tensor  # (V, 3, H, W) world frame, 0 on background
    canonical: torch.Tensor  # (V, 3, H, W) world position at t_ref, 0 on background


def ray_box(
    origins: torch.Tensor, dirs: torch.Tensor, half: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Entry and exit distances (N,) of rays (N, 3) through the box [-half, half]^3.

    Rays that miss have entry > exit. Entry is clamped at 0 (a camera inside the box).
    """
    inv = 1.0 / torch.where(dirs.abs() < 1e-12, torch.full_like(dirs, 1e-12), dirs)
    t0 = (-half - origins) * inv
    t1 = (half - origins) * inv
    near = torch.minimum(t0, t1).max(dim=-1).values.clamp_min(0.0)
    far = torch.maximum(t0, t1).min(dim=-1).values
    return near, far


def trace(
    obj: Field, origins: torch.Tensor, dirs: torch.Tensor, t: float, cfg: RenderConfig
) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return the distance along each ray (N,) to the surface at time t and whether it hit (N,).

    Rays that graze a surface creep along it in ever smaller steps; one still within
    ``grazing_epsilon`` of the surface after ``max_steps`` counts as a hit.
    """
    near, far = ray_box(origins, dirs)
    dist = near.clone()
    hit = torch.zeros_like(near, dtype=torch.bool)
    active = near < far
    last = torch.full_like(near, torch.inf)
    for _ in range(cfg.max_steps):
        idx = active.nonzero(as_tuple=True)[0]
        if idx.numel() == 0:
            break
        d = obj.sdf(origins[idx] + dist[idx, None] * dirs[idx], t)
        last[idx] = d
        converged = d < cfg.hit_epsilon
        hit[idx[converged]] = True
        dist[idx] = dist[idx] + torch.where(converged, torch.zeros_like(d), cfg.safety * d)
        escaped = dist[idx] > far[idx]
        active[idx[converged | escaped]] = False
    return dist, hit | (active & (last < cfg.grazing_epsilon))


def render(
    obj: Field,
    cameras: Cameras,
    t: float,
    cfg: RenderConfig | None = None,
    t_ref: float = 0.0,
) -> RenderOutput:
    """Render ``obj`` (ground truth or a reconstruction) at time ``t`` from every camera."""
    cfg = cfg or RenderConfig()
    origins, dirs = cameras.rays()
    v, h, w = len(cameras), cameras.height, cameras.width
    origins, dirs = origins.reshape(-1, 3), dirs.reshape(-1, 3)
    forward = cameras.world_T_cam[:, :3, 2][:, None, None, :].expand(v, h, w, 3).reshape(-1, 3)
    n = origins.shape[0]
    rgb = torch.full((n, 3), cfg.background, dtype=origins.dtype, device=origins.device)
    albedo = rgb.clone()
    depth = torch.zeros(n, dtype=origins.dtype, device=origins.device)
    mask = torch.zeros(n, dtype=origins.dtype, device=origins.device)
    normals = torch.zeros(n, 3, dtype=origins.dtype, device=origins.device)
    canonical = torch.zeros(n, 3, dtype=origins.dtype, device=origins.device)
    for start in range(0, n, cfg.chunk_rays):
        sl = slice(start, start + cfg.chunk_rays)
        dist, hit = trace(obj, origins[sl], dirs[sl], t, cfg)
        idx = hit.nonzero(as_tuple=True)[0] + start
        if idx.numel() == 0:
            continue
        points = origins[idx] + dist[idx - start, None] * dirs[idx]
        normal = obj.normals(points, t)
        lambert = (-(normal * dirs[idx]).sum(dim=-1)).clamp_min(0.0)
        shade = cfg.ambient + (1.0 - cfg.ambient) * lambert
        albedo[idx] = obj.colour(points, t)
        rgb[idx] = albedo[idx] * shade[:, None]
        depth[idx] = ((points - origins[idx]) * forward[idx]).sum(dim=-1)
        mask[idx] = 1.0
        normals[idx] = normal
        canonical[idx] = obj.canonical(points, t, t_ref)

    def image(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(v, h, w, -1).permute(0, 3, 1, 2).contiguous()

    return RenderOutput(image(rgb), image(albedo), image(depth), image(mask), image(normals),
                        image(canonical))
