"""
``lim-ros demo``: a synthetic scene through the whole pipeline, with no ROS install.

1. a dynamic object seen by the node's default 4-camera rig (or, monocular, by its first
   camera only: `monocular_settings`) is recorded as a camera bag (``input_bag``,
   `lim_ros.bag.scene`);
2. ``lim-ros bag`` processing turns it into the node's outputs (``output_bag``), and
   exports every tracked-mesh track to ``tracks/`` (animated GLB, OBJ + MTL + PNG per frame;
   with the ``tracking`` parameter, on by default);
3. meshes of some output stamps, keyframes and stamps between them, go to ``meshes/`` (PLY
   with vertex colours, and OBJ);
4. ground truth and reconstruction from a novel viewpoint at every output stamp make
   ``preview.png`` (some stamps) and ``preview.gif`` (all);
5. the Chamfer-L1 distance (metres) between each output cloud and exact ground-truth surface
   samples is printed per output stamp, keyframes and interpolated stamps marked.
"""

from dataclasses import dataclass, field, replace
from pathlib import Path
import shutil
import time

from lim_ros.bag.process import BagJob, Output, process_bag
from lim_ros.bag.scene import SceneConfig, write_scene_bag
from lim_ros.bag.summary import BagSummary
from lim_ros.demo.figures import novel_camera, render_pair, write_figures
from lim_ros.engine import ReconstructionEngine
from lim_ros.errors import ConfigError
from lim_ros.geometry.export import write_obj, write_ply
from lim_ros.geometry.mesh import Mesh
from lim_ros.metrics import chamfer
from lim_ros.stream.settings import NodeSettings
from lim_ros.world.families import make_object
import numpy as np
from rich.console import Console
from rich.table import Table
import torch

GENERATED = ('input_bag', 'output_bag', 'meshes', 'tracks', 'preview.png', 'preview.gif')


@dataclass(frozen=True)
class DemoConfig:
    """What the demo records and how it processes it."""

    out: Path = Path('out/demo')
    scene: SceneConfig = field(default_factory=SceneConfig)
    rate: float = 10.0  # Hz: output stamps per second
    storage: str = 'sqlite3'  # of both bags
    preview_columns: int = 6  # output stamps shown in preview.png (and exported as meshes)
    gt_points: int = 20000  # ground-truth surface samples per output stamp

    def __post_init__(self) -> None:
        """Validate the counts (the rate and storage are checked by `BagJob`)."""
        for name in ('preview_columns', 'gt_points'):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f'{name}: expected a positive integer, got {value!r}')


@dataclass
class FrameScore:
    """One output stamp of the demo."""

    stamp_ns: int
    keyframe: bool
    chamfer_l1: float  # metres
    mesh: Mesh
    pair: torch.Tensor  # (2, 3, H, W): ground truth, reconstruction


@dataclass
class DemoResult:
    """What the demo wrote and measured."""

    summary: BagSummary
    frames: list[FrameScore]
    paths: dict[str, list[Path]]
    seconds: dict[str, float]


def monocular_settings(views: str, settings: NodeSettings | None = None) -> NodeSettings:
    """Return ``settings`` (default: the defaults) for monocular input from its first camera."""
    settings = settings or NodeSettings()
    stream = replace(settings.stream, cameras=list(settings.stream.cameras[:1]),
                     camera_poses=list(settings.stream.camera_poses[:7]))
    engine = replace(settings.engine, input_mode='monocular', monocular_views=views)
    return replace(settings, engine=engine, stream=stream)


def _clear(out: Path) -> None:
    """Remove what an earlier demo run wrote to ``out`` (only the demo's own names)."""
    for name in GENERATED:
        path = out / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def run_demo(cfg: DemoConfig, params: NodeSettings | None = None,
             console: Console | None = None) -> DemoResult:
    """Run the five steps of the module docstring; print tables and return what was done."""
    console = console or Console()
    params = params or NodeSettings()
    scene = cfg.scene
    job = BagJob(cfg.out / 'input_bag', cfg.out / 'output_bag', cfg.rate, storage=cfg.storage,
                 tracks=cfg.out / 'tracks')
    engine = ReconstructionEngine(params.engine)  # models first: a failed load keeps the last run
    cfg.out.mkdir(parents=True, exist_ok=True)
    _clear(cfg.out)
    seconds = {}

    start = time.perf_counter()
    stamps = write_scene_bag(scene, params.stream, job.input_bag, cfg.storage)
    seconds['scene bag'] = time.perf_counter() - start
    console.print(f'recorded {scene.family} (seed {scene.seed}): {len(stamps)} frames x '
                  f'{len(params.stream.cameras)} cameras, {scene.size} px, '
                  f'{scene.camera_rate:g} Hz -> {job.input_bag}')

    obj = make_object(scene.family, scene.seed)
    camera = novel_camera(scene.size)
    frames: list[FrameScore] = []

    def score(output: Output, engine: ReconstructionEngine) -> None:
        t = scene.time_of(output.stamp_ns)
        truth = obj.surface_samples(t, cfg.gt_points, torch.Generator().manual_seed(0)).points
        distance = chamfer(output.reconstruction.points.points, truth).l1
        pair = render_pair(obj, t, engine, output.stamp_ns, camera,
                           params.engine.mesh_resolution)
        frames.append(FrameScore(output.stamp_ns, output.keyframe, distance,
                                 output.reconstruction.mesh, pair))

    start = time.perf_counter()
    summary = process_bag(job, params, engine, on_output=score)
    seconds['bag processing + scoring'] = time.perf_counter() - start
    console.print(summary.table(f'lim-ros bag {job.input_bag} -> {job.output_bag}'))

    start = time.perf_counter()
    columns = sorted({int(i) for i in np.linspace(0, len(frames) - 1,
                                                  min(cfg.preview_columns, len(frames)))})
    meshes = _write_meshes([frames[i] for i in columns], scene, cfg.out / 'meshes')
    png, gif = write_figures([f.pair for f in frames], columns, cfg.out, 1.0 / cfg.rate)
    seconds['meshes + previews'] = time.perf_counter() - start

    console.print(_score_table(frames, scene, set(columns)))
    paths = {'input bag': [job.input_bag], 'output bag': [job.output_bag], 'meshes': meshes,
             'tracks (GLB; OBJ + PNG in track_<id>/)': summary.track_exports,
             'previews': [png, gif]}
    return DemoResult(summary, frames, paths, seconds)


def _kind(frame: FrameScore) -> str:
    return 'keyframe' if frame.keyframe else 'interpolated'


def _write_meshes(frames: list[FrameScore], scene: SceneConfig, out: Path) -> list[Path]:
    """Write a PLY and an OBJ of each frame's mesh, named by object time and kind."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for frame in frames:
        stem = f't{scene.time_of(frame.stamp_ns):06.3f}s_{_kind(frame)}'
        paths += [write_ply(out / f'{stem}.ply', frame.mesh),
                  write_obj(out / f'{stem}.obj', frame.mesh)]
    return paths


def _score_table(frames: list[FrameScore], scene: SceneConfig, shown: set[int]) -> Table:
    """Return the per-stamp Chamfer table, with the mean of each kind at the bottom."""
    first = frames[0].stamp_ns if frames else scene.start_ns
    table = Table(title=f'Chamfer-L1 to the ground truth (t = 0 s at stamp {first} ns)')
    for name in ('#', 't (s)', 'kind', 'Chamfer-L1 (m)', 'faces', 'preview'):
        table.add_column(name, justify='left' if name == 'kind' else 'right')
    for i, frame in enumerate(frames):
        table.add_row(str(i), f'{(frame.stamp_ns - first) / 1e9:.3f}', _kind(frame),
                      f'{frame.chamfer_l1:.4f}', str(frame.mesh.num_faces),
                      'yes' if i in shown else '')
    for kind in ('keyframe', 'interpolated'):
        values = [f.chamfer_l1 for f in frames if _kind(f) == kind]
        if values:
            table.add_row('', '', f'mean, {len(values)} {kind}', f'{float(np.mean(values)):.4f}',
                          '', '', style='bold')
    return table
