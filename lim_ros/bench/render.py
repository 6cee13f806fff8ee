"""
``lim-ros bench render``: rays per second of the sphere tracer against uniform ray marching.

The baseline marches every ray through the volume in fixed steps (the step is chosen so it
cannot jump over the thinnest part) and stops at the first sign change of the SDF; both run
in the same process on the same rays, so the speed-up is a like-for-like ratio. Depth
agreement between the two is reported as the mean absolute difference on pixels both hit.
"""

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from lim_ros.bench.report import report, timed
from lim_ros.cameras import rig
from lim_ros.render.sphere_tracer import ray_box, RenderConfig, trace
from lim_ros.world.families import FAMILIES, make_object
import torch

UNIFORM_STEP = 0.01  # metres; thinner than any part of the synthetic objects


@dataclass(frozen=True)
class RenderBenchConfig:
    """What ``bench render`` measures."""

    sizes: tuple[int, ...] = (64, 128)
    families: tuple[str, ...] = tuple(FAMILIES)
    num_views: int = 4
    time: float = 0.5
    repeats: int = 2


def march_uniform(obj, origins: torch.Tensor, dirs: torch.Tensor, t: float):
    """Baseline: distance (N,) and hit (N,) of rays found by fixed steps of `UNIFORM_STEP`."""
    near, far = ray_box(origins, dirs)
    dist = near.clone()
    hit = torch.zeros_like(near, dtype=torch.bool)
    active = near < far
    while active.any():
        idx = active.nonzero(as_tuple=True)[0]
        inside = obj.sdf(origins[idx] + dist[idx, None] * dirs[idx], t) < 0
        hit[idx[inside]] = True
        dist[idx[~inside]] += UNIFORM_STEP
        active[idx[inside | (dist[idx] > far[idx])]] = False
    return dist, hit


def _timed(fn, repeats: int, device: torch.device):
    times, result = timed(fn, repeats, device)
    return min(times), result


def run(cfg: RenderBenchConfig, out: Path) -> list[dict]:
    """Measure every (device, size) over the families; print and write the table."""
    devices = [torch.device('cpu')] + ([torch.device('cuda')] if torch.cuda.is_available() else [])
    objects = [make_object(f, 0) for f in cfg.families]
    rows = []
    for device in devices:
        for size in cfg.sizes:
            cams = rig(cfg.num_views, size).to(device)
            origins, dirs = (x.reshape(-1, 3) for x in cams.rays())
            rays = origins.shape[0] * len(objects)
            tracer_s = baseline_s = depth_error = 0.0
            hits = 0
            for obj in objects:
                obj = obj.to(device)
                s, (d1, h1) = _timed(
                    partial(trace, obj, origins, dirs, cfg.time, RenderConfig()), cfg.repeats,
                    device)
                b, (d2, h2) = _timed(
                    partial(march_uniform, obj, origins, dirs, cfg.time), cfg.repeats, device)
                tracer_s, baseline_s = tracer_s + s, baseline_s + b
                both = h1 & h2
                depth_error += float((d1[both] - d2[both]).abs().sum())
                hits += int(both.sum())
            rows.append({
                'device': device.type,
                'image': f'{cfg.num_views}x{size}x{size}',
                'tracer_rays_per_s': rays / tracer_s,
                'march_rays_per_s': rays / baseline_s,
                'speedup': baseline_s / tracer_s,
                'depth_diff_m': depth_error / max(hits, 1),
            })
    report('bench render: sphere tracing vs uniform marching', rows, out)
    return rows
