"""
``lim-ros bench node``: what the node spends per keyframe and per output, by mesh resolution.

Measured in one process on the engine and the message writers the node uses (no middleware):

- keyframe latency: camera images (raw rgb8 bytes, V views of S x S) → decoded → LRM →
  keyframe in the buffer, per input size;
- output latency at each mesh resolution: a stamp between keyframes → interpolated triplane →
  SDF grid → marching cubes → coloured mesh and surface points, then the three messages built
  (PointCloud2, Marker, IndexedMesh CDR bytes); the achievable output rate is one over their
  sum, on one thread;
- the SDF grid decoded near the surface only (what the engine does) against the full grid;
- message sizes, and the Marker's build time against a baseline that builds it from rclpy
  message objects (one Point and one ColorRGBA per listed vertex) and serialises it, when
  rclpy is installed.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
import statistics

from lim_ros.bench.report import report, T, timed
from lim_ros.cameras import rig
from lim_ros.data.preview import to_uint8
from lim_ros.engine import EngineConfig, ReconstructionEngine
from lim_ros.engine.engine import Reconstruction
from lim_ros.engine.extraction import sdf_grid
from lim_ros.engine.messages import colour_bytes, output_messages
from lim_ros.errors import ShapeError
from lim_ros.geometry.grid import evaluate_on_grid
from lim_ros.render.sphere_tracer import render
from lim_ros.wire import decode_image
from lim_ros.world.families import make_object
import numpy as np
import torch

SECOND = 1_000_000_000


@dataclass(frozen=True)
class NodeBenchConfig:
    """What ``bench node`` measures."""

    image_sizes: tuple[int, ...] = (64, 128, 256)
    mesh_resolutions: tuple[int, ...] = (32, 48, 64, 96, 128)
    num_points: int = 20000
    repeats: int = 3
    device: str = 'cpu'
    family: str = 'humanoid'


def _median_ms(fn: Callable[[], T], repeats: int, device: torch.device) -> tuple[float, T]:
    times, result = timed(fn, repeats, device)
    return 1e3 * statistics.median(times), result


def _camera_bytes(obj, size: int, t: float) -> list[bytes]:
    return [view.tobytes() for view in to_uint8(render(obj, rig(4, size), t).rgb)]


def _marker_baseline_ms(reconstruction: Reconstruction, repeats: int) -> float | None:
    try:
        from lim_ros.ros.object_messages import marker_from_objects
    except ImportError:
        return None
    mesh = reconstruction.mesh
    colours = colour_bytes(mesh.vertex_colours)
    if colours is None:
        raise ShapeError('mesh: the engine gave a mesh without vertex colours')
    args = (mesh.vertices.numpy(), mesh.faces.numpy(), colours.astype(np.float32) / 255.0,
            reconstruction.stamp_ns, 'lim_volume')
    return _median_ms(lambda: marker_from_objects(*args), repeats, torch.device('cpu'))[0]


def _keyframe_row(obj, size: int, cfg: NodeBenchConfig, device: torch.device) -> dict:
    """Time raw camera bytes → decoded views → LRM → keyframe, for 4 views of size x size."""
    engine = ReconstructionEngine(EngineConfig(device=cfg.device, max_keyframes=64))
    cameras, views = rig(4, size), _camera_bytes(obj, size, 0.0)
    stamps = iter(range(0, 10**6 * SECOND, SECOND))

    def keyframe():
        images = np.stack([decode_image('rgb8', size, size, 3 * size, b, False) for b in views])
        return engine.add_keyframe(next(stamps), images, cameras)

    keyframe()  # warm-up
    return {'stage': 'image → keyframe', 'input': f'4x{size}x{size}',
            'ms': _median_ms(keyframe, cfg.repeats, device)[0]}


def _output_row(engine: ReconstructionEngine, resolution: int, cfg: NodeBenchConfig,
                device: torch.device) -> dict:
    """Time a stamp between keyframes → geometry → messages at one mesh resolution."""
    offsets = iter(range(1, 10**6))

    def query() -> Reconstruction:  # a new stamp each time, so nothing comes from the cache
        return engine.reconstruction(SECOND // 4 + next(offsets), resolution=resolution)

    query()  # warm-up
    query_ms, result = _median_ms(query, cfg.repeats, device)
    build_ms, blobs = _median_ms(lambda: output_messages(result, 'lim_volume'), cfg.repeats,
                                 device)
    marker_ms, _ = _median_ms(lambda: output_messages(result, 'lim_volume').marker, cfg.repeats,
                              device)
    baseline = _marker_baseline_ms(result, cfg.repeats)
    planes = engine.triplane(result.stamp_ns)
    grid_ms, _ = _median_ms(lambda: sdf_grid(engine.lrm.decode, planes, resolution),
                            cfg.repeats, device)
    full_ms, _ = _median_ms(lambda: evaluate_on_grid(
        lambda p: engine.lrm.decode(planes, p[None]).sdf[0], resolution, device=device),
        cfg.repeats, device)
    return {
        'stage': 'stamp → messages', 'input': f'mesh {resolution}^3',
        'ms': query_ms + build_ms, 'query_ms': query_ms, 'build_ms': build_ms,
        'rate_hz': 1e3 / (query_ms + build_ms), 'faces': result.mesh.num_faces,
        'points_kb': len(blobs.points) / 1024, 'marker_kb': len(blobs.marker) / 1024,
        'mesh_kb': len(blobs.mesh) / 1024,
        'grid_ms': grid_ms, 'full_grid_ms': full_ms, 'grid_speedup': full_ms / grid_ms,
        'marker_objects_ms': baseline,
        'marker_speedup': None if baseline is None else baseline / max(marker_ms, 1e-6),
    }


def run(cfg: NodeBenchConfig, out: Path) -> list[dict]:
    """Measure, print the table and write it with the environment as JSON."""
    device = torch.device(cfg.device)
    obj = make_object(cfg.family, 0)
    rows = [_keyframe_row(obj, size, cfg, device) for size in cfg.image_sizes]
    engine = ReconstructionEngine(EngineConfig(device=cfg.device, num_points=cfg.num_points,
                                               cache_size=0))
    cameras = rig(4, 128)
    for i, t in enumerate((0.0, 0.5)):
        images = np.stack([np.frombuffer(b, np.uint8).reshape(128, 128, 3)
                           for b in _camera_bytes(obj, 128, t)])
        engine.add_keyframe(i * SECOND // 2, images, cameras)
    rows += [_output_row(engine, r, cfg, device) for r in cfg.mesh_resolutions]
    keys = list(dict.fromkeys(k for row in rows for k in row))
    rows = [{k: row.get(k, '') for k in keys} for row in rows]
    report(f'bench node ({cfg.device}): 4 cameras, {cfg.num_points} points per cloud', rows, out)
    return rows
