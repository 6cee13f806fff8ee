"""
``lim-ros bench track``: tracked meshes against the world's exact correspondence.

Every sequence is one object of the synthetic world seen by the 4-view rig, with keyframes
every ``keyframe_gap`` seconds over ``duration`` seconds; the engine (``--lrm``; linear
interpolation, or ``--interpolation lim`` with ``--lim``) answers at ``frames`` + 1
instants. A track is anchored at t = 0 on the engine's mesh; the ground truth of an anchor
vertex v at t is the world's position at t of the material at v
(`DynamicObject.canonical(v, t_anchor, t)`: the nearest part's material, so vertices off the
true surface keep their offset). Methods:

- ``canonical``: `MeshTracker`, vertices follow the decoder's canonical coordinates
  (re-anchoring as configured; after a re-anchor the new anchor's vertices are scored);
- ``register``: `MeshTracker` with ``track_search: register``, the anchor mesh bent as rigidly
  as possible onto the decoded surface at every instant, keeping its colours (same
  re-anchoring);
- ``canonical_one_track`` and ``register_one_track``: the same trackers never re-anchoring, so
  every instant is scored from the t = 0 anchor (a re-anchor restarts the error at zero);
- ``register_one_track_grid`` (only with ``track_grid`` R > 0): ``register_one_track`` with
  ``track_grid: R``, the fields decoded once per instant on an R^3 grid and read trilinearly;
  its milliseconds include building its grids;
- ``static``: vertices never move (what a tracker that learnt nothing gives);
- ``nearest``: the baseline: per-frame marching-cubes meshes of the engine, each vertex moves
  to the nearest vertex of the next frame's mesh;
- ``oracle_field``: the same tracker (same search) on the world's exact SDF and canonical
  field, from the same anchor vertices: the tracker's own error, with a perfect canonical
  head.
- ``register_oracle_field``: the ``register`` tracker held to one track on the world's exact
  SDF and colour, from the same anchor vertices with their exact colour: the registration's
  own error, with exact surfaces and colours at every instant.
- ``pose_chord``: a reference, not a tracker: the anchor vertices moved by the world's exact
  motion at the keyframes and by its chord between them (every joint, deformation and rigid
  parameter at constant speed, `DynamicObject.chord_motion`): the error left to a tracker that
  knew the object exactly at the keyframes and nothing between them.
- ``surface_floor``: a bound, not a tracker: every true position moved to the nearest point of
  the engine's surface at t (its marching-cubes mesh, densely sampled): no tracker that puts
  its vertices on the decoded surface does better; what is left is the reconstruction's error.

Scores per instant, over the anchor mesh's vertices (each once: a tracked mesh's UV-seam copies
are collapsed, `UVAtlas.collapse`, as the other methods move mesh vertices), in % of the
diagonal of the true positions' bounding box: ``error``, the mean distance of tracked vertices
to their true positions (`correspondence_error`), and
``drift``, how far the material under each vertex at t lies from the material its texel was
baked from (the world's map from t back to the anchor time), i.e. how far the texture slid;
and ``far``, the share of vertices whose error passes `FAR` (10 % of the diagonal: on another
part, or lost), reported at the last instant, where a mean hides whether a few vertices are
far off or all are a little; ``far_elsewhere``, the share that is far off *and* on another
part than its material's (the world's nearest part at t, `DynamicObject.part_at`): what is
left of ``far`` slid along its own part. Each row also gives ``error_se``, the standard error
of its mean error over the sequences (`standard_error`). Per family, ``anchor_off_surface``
is the share of the t = 0 anchor's vertices more than `OFF_SURFACE` from the world's surface
(`off_surface_share`): reconstructed surface where the object has none, such as webs between
legs, which the surface floor (truth to surface) does not see and which the anchor mesh
carries into every tracker that starts from it.
Milliseconds per frame leave out the engine's marching-cubes mesh of the frame, which
the trackers and ``nearest`` use (and the node extracts for ``~/mesh`` anyway).
"""

from dataclasses import dataclass, replace
import json
import math
from pathlib import Path
import time

from lim_ros.bench.report import report, standard_error
from lim_ros.cameras import Cameras, rig
from lim_ros.engine import EngineConfig, ReconstructionEngine, Volume
from lim_ros.engine.tracking import check_track_grid, MeshTracker, TrackedMesh, TrackingConfig
from lim_ros.errors import ConfigError
from lim_ros.geometry.raster import render_textured
from lim_ros.geometry.registration import mesh_edges, register_step, RegistrationConfig
from lim_ros.geometry.tracking import (
    best_step,
    canonical_search,
    extrapolate,
    nearest_neighbour_step,
    track_step,
    TrackerConfig,
)
from lim_ros.metrics.correspondence import (
    bbox_diagonal_of,
    correspondence_error,
    correspondence_errors,
)
from lim_ros.metrics.geometry import sample_mesh_surface
from lim_ros.render.sphere_tracer import render
from lim_ros.world.dynamic_object import DynamicObject
from lim_ros.world.families import HELD_OUT_FAMILIES, make_object, SEEN_FAMILIES
import numpy as np
from PIL import Image
import torch
from tqdm import tqdm

METHODS = ('canonical', 'register', 'canonical_one_track', 'register_one_track', 'static',
           'nearest', 'oracle_field', 'register_oracle_field', 'pose_chord', 'surface_floor')
# the methods that run a MeshTracker; the *_one_track ones never re-anchor
TRACKERS = ('canonical', 'register', 'canonical_one_track', 'register_one_track')
GRID_TRACKER = 'register_one_track_grid'  # a row of its own with TrackBenchConfig.track_grid
NEVER = 1e9  # a re-anchoring error no track reaches, metres
FLOOR_SAMPLES = 200_000  # surface samples for ``surface_floor``
FAR = 10.0  # % of the diagonal: a vertex off by more is on another part or lost
OFF_SURFACE = 5.0  # % of the diagonal: an anchor vertex farther from the true surface is spurious


@dataclass(frozen=True)
class TrackBenchConfig:
    """The fixed sequences of ``bench track`` and the engine that reconstructs them."""

    lrm_checkpoint: str = 'models/lrm_base.safetensors'
    interpolation: str = 'linear'  # the engine's interpolation between keyframes
    lim_checkpoint: str = ''  # for interpolation 'lim'; '' = the shipped LIM
    samples: int = 5  # sequences per split
    seed: int = 60_000
    duration: float = 1.0  # seconds of motion tracked
    frames: int = 10  # tracked instants after the anchor
    keyframe_gap: float = 0.5  # seconds between keyframes
    mesh_resolution: int = 48
    tracking: TrackingConfig = TrackingConfig(track_texture='checker', track_texture_size=256)
    # of the register rows; their colour term's weight is tracking.track_colour_weight
    registration: RegistrationConfig = RegistrationConfig()
    track_grid: int = 0  # R > 0: one more row, register_one_track on an R^3 field grid

    def __post_init__(self) -> None:
        """Refuse a keyframe gap that does not divide the duration, and a bad grid."""
        check_track_grid(self.track_grid)
        intervals = self.duration / self.keyframe_gap if self.keyframe_gap > 0 else 0.0
        if not (math.isfinite(intervals) and intervals >= 1.0
                and abs(intervals - round(intervals)) < 1e-6):
            raise ConfigError(f'keyframe_gap: expected a positive number of seconds that '
                              f'divides duration = {self.duration} s, got {self.keyframe_gap!r}')

    @property
    def intervals(self) -> int:
        """Return the number of keyframe intervals over ``duration`` (keyframes: one more)."""
        return round(self.duration / self.keyframe_gap)

    @property
    def trackers(self) -> tuple[str, ...]:
        """Return the methods that run a `MeshTracker`, `GRID_TRACKER` with ``track_grid``."""
        return TRACKERS + self._grid_rows

    @property
    def methods(self) -> tuple[str, ...]:
        """Return every method scored, `GRID_TRACKER` last with ``track_grid``."""
        return METHODS + self._grid_rows

    @property
    def _grid_rows(self) -> tuple[str, ...]:
        return (GRID_TRACKER,) if self.track_grid else ()


@dataclass
class SequenceScores:
    """One sequence's family, per-method curves over its instants (% of diagonal) and timings."""

    family: str  # the object's family
    error: dict[str, list[float]]
    drift: dict[str, list[float]]
    far: dict[str, list[float]]  # % of the vertices off by more than `FAR`
    far_elsewhere: dict[str, list[float]]  # ... and on another part than their material's
    seconds: dict[str, float]
    reanchors: dict[str, int]
    anchor_off_surface: float  # % of the t = 0 anchor's vertices, `off_surface_share`


def _seconds(stamp_ns: int) -> float:
    return stamp_ns * 1e-9


def score_positions(obj: DynamicObject, anchor: torch.Tensor, t_anchor: float, t: float,
                    positions: torch.Tensor) -> tuple[float, float, float, float]:
    """
    Return (error, drift, far, far_elsewhere) of ``positions`` (V, 3) at t.

    Error and drift are in % of the true bounding-box diagonal at t; far is the % of vertices
    whose error passes `FAR`, far_elsewhere the % of those that also lie on another part than
    the material they stand for.
    """
    true = obj.canonical(anchor, t_anchor, t)
    diagonal = bbox_diagonal_of(true)
    errors = correspondence_errors(positions, true, diagonal)
    back = obj.canonical(positions, t, t_anchor)
    drift = correspondence_error(back, anchor, diagonal)
    far = errors > FAR
    elsewhere = far & (obj.part_at(positions, t) != obj.part_at(anchor, t_anchor))
    return (float(errors.mean()), drift, 100.0 * float(far.double().mean()),
            100.0 * float(elsewhere.double().mean()))


def score_tracked(obj: DynamicObject, volume: Volume,
                  tracked: TrackedMesh) -> tuple[float, float, float, float]:
    """
    Return `score_positions` of a tracked mesh from its anchor, per mesh vertex.

    A tracked mesh's vertices are its UV atlas's, where a vertex on a seam appears once per
    chart; they are collapsed (`UVAtlas.collapse`) so that each mesh vertex counts once, as
    in the methods that move the mesh's vertices themselves.
    """
    anchor = tracked.anchor
    return score_positions(obj, volume.to_unit(anchor.atlas.collapse(anchor.vertices)),
                           _seconds(anchor.stamp_ns), _seconds(tracked.stamp_ns),
                           volume.to_unit(anchor.atlas.collapse(tracked.vertices)))


def off_surface_share(obj: DynamicObject, vertices: torch.Tensor, t: float) -> float:
    """
    Return the % of ``vertices`` (V, 3) farther than `OFF_SURFACE` from ``obj``'s surface at t.

    The distance is the world's |SDF| (exact for rigid parts), in % of the diagonal of the
    vertices' bounding box (the scores' diagonal at the anchor's instant).
    """
    diagonal = bbox_diagonal_of(vertices)
    off = 100.0 * obj.sdf(vertices, t).abs() / diagonal > OFF_SURFACE
    return 100.0 * float(off.double().mean())


def chord_positions(obj: DynamicObject, anchor: torch.Tensor, t: float,
                    cfg: TrackBenchConfig) -> torch.Tensor:
    """Positions (V, 3) at t of the material at ``anchor`` at t = 0 under the keyframes' chord."""
    k = min(int(t // cfg.keyframe_gap), cfg.intervals - 1)
    start, end = k * cfg.keyframe_gap, (k + 1) * cfg.keyframe_gap
    at_keyframe = obj.canonical(anchor, 0.0, start)
    return obj.chord_motion(start, end).canonical(at_keyframe, start, t)


def surface_samples(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Return a mesh's vertices (V, 3) and ``FLOOR_SAMPLES`` points on its faces, stacked."""
    return torch.cat([vertices, sample_mesh_surface(
        vertices, faces, FLOOR_SAMPLES, torch.Generator().manual_seed(0))])


def add_keyframes(engine: ReconstructionEngine, obj: DynamicObject, cfg: TrackBenchConfig,
                  cameras: Cameras) -> None:
    """Render ``obj`` at every keyframe of the sequence and give the views to ``engine``."""
    engine.clear()
    for k in range(cfg.intervals + 1):
        t = k * cfg.keyframe_gap
        rgb = render(obj, cameras, t).rgb.permute(0, 2, 3, 1)
        engine.add_keyframe(round(t * 1e9), (rgb * 255).round().to(torch.uint8).numpy(),
                            cameras)


def track_sequence(engine: ReconstructionEngine, obj: DynamicObject, cfg: TrackBenchConfig,
                   figure: list[list[np.ndarray]] | None = None,
                   camera: Cameras | None = None) -> SequenceScores:
    """
    Score every method on one sequence (keyframes already in ``engine``).

    With ``figure`` and ``camera``, append three rows of renders at every other instant: the
    ``canonical``, ``register`` and ``oracle_field`` tracks, each with its anchor's texture.
    """
    volume = engine.volume
    stamps = [round(cfg.duration * i / cfg.frames * 1e9) for i in range(cfg.frames + 1)]
    registering = replace(cfg.tracking, track_search='register')
    keep_lost = TrackerConfig(lost_fraction=1.0)
    trackers = {'canonical': MeshTracker(engine, cfg.tracking),
                'register': MeshTracker(engine, registering, registration=cfg.registration),
                'canonical_one_track': MeshTracker(engine, replace(
                    cfg.tracking, track_reanchor_error=NEVER), keep_lost),
                'register_one_track': MeshTracker(engine, replace(
                    registering, track_reanchor_error=NEVER), keep_lost, cfg.registration)}
    if cfg.track_grid:
        trackers[GRID_TRACKER] = MeshTracker(engine, replace(
            registering, track_reanchor_error=NEVER, track_grid=cfg.track_grid), keep_lost,
            cfg.registration)
    # per method, one value per instant of each of `score_positions`' four scores
    scores: list[dict[str, list[float]]] = [{m: [] for m in cfg.methods} for _ in range(4)]
    error, drift, far, far_elsewhere = scores
    seconds = dict.fromkeys(cfg.methods, 0.0)

    def record(name: str, values: tuple[float, float, float, float]) -> None:
        for table, value in zip(scores, values):
            table[name].append(value)

    def timed_track(name: str, stamp: int) -> TrackedMesh:
        begin = time.perf_counter()
        tracked = trackers[name].tracked_mesh(stamp)
        seconds[name] += time.perf_counter() - begin
        return tracked

    first = {name: timed_track(name, stamps[0]) for name in cfg.trackers}
    atlas = first['canonical'].anchor.atlas
    anchor_mesh = engine.mesh(stamps[0])
    source = volume.to_unit(anchor_mesh.vertices)  # (V, 3) anchor vertices
    unit_cfg = trackers['canonical'].unit_tracker_config
    oracle_target = obj.canonical(source, 0.0, 0.0)
    oracle, nearest = source, source
    edges, exact_albedo = mesh_edges(anchor_mesh.faces), obj.colour(source, 0.0)
    registered, velocity, edge_weights = source, None, None
    rows: list[list[np.ndarray]] = [[], [], []]

    def draw(tracked: dict[str, TrackedMesh], oracle: torch.Tensor, camera: Cameras) -> None:
        for row, name in zip(rows, TRACKERS[:2]):
            mesh = tracked[name]
            row.append(render_textured(mesh.vertices, mesh.faces, mesh.uvs,
                                       mesh.anchor.texture, camera))
        rows[-1].append(render_textured(volume.to_volume(atlas.expand(oracle)), atlas.faces,
                                        atlas.uvs, first['canonical'].anchor.texture, camera))

    if figure is not None and camera is not None:
        draw(first, oracle, camera)
    for index, stamp in enumerate(stamps[1:], start=1):
        t = _seconds(stamp)
        mesh = engine.mesh(stamp)  # shared, not timed
        surface = volume.to_unit(mesh.vertices)
        tracked = {name: timed_track(name, stamp) for name in cfg.trackers}
        for name in cfg.trackers:
            record(name, score_tracked(obj, volume, tracked[name]))
        begin = time.perf_counter()
        nearest = nearest_neighbour_step(nearest, surface)
        seconds['nearest'] += time.perf_counter() - begin
        begin = time.perf_counter()

        def field(points: torch.Tensor, t: float = t) -> tuple[torch.Tensor, torch.Tensor]:
            return obj.sdf(points, t), obj.canonical(points, t, 0.0)

        if cfg.tracking.track_search == 'canonical':
            found = canonical_search(field, oracle_target, surface)
            oracle = best_step(field, oracle_target, [oracle, found], unit_cfg).positions
        else:
            oracle = track_step(field, oracle_target, oracle, unit_cfg).positions
        seconds['oracle_field'] += time.perf_counter() - begin
        begin = time.perf_counter()

        def surface_field(points: torch.Tensor, t: float = t
                          ) -> tuple[torch.Tensor, torch.Tensor]:
            return obj.sdf(points, t), obj.colour(points, t)

        step = register_step(surface_field, source, exact_albedo, edges,
                             extrapolate(registered, velocity, cfg.duration / cfg.frames),
                             trackers['register'].registration, edge_weights)
        velocity = (step.positions - registered) * cfg.frames / cfg.duration
        registered, edge_weights = step.positions, step.edge_weights
        seconds['register_oracle_field'] += time.perf_counter() - begin
        floor = nearest_neighbour_step(obj.canonical(source, 0.0, t),
                                       surface_samples(surface, mesh.faces))
        for name, positions in (('static', source), ('nearest', nearest),
                                ('oracle_field', oracle),
                                ('register_oracle_field', registered),
                                ('pose_chord', chord_positions(obj, source, t, cfg)),
                                ('surface_floor', floor)):
            record(name, score_positions(obj, source, 0.0, t, positions))
        if figure is not None and camera is not None and index % 2 == 0:
            draw(tracked, oracle, camera)
    if figure is not None:
        figure.extend(rows)
    return SequenceScores(obj.family, error, drift, far, far_elsewhere, seconds,
                          {name: trackers[name].tracks_started - 1 for name in cfg.trackers},
                          off_surface_share(obj, source, 0.0))


def sequence_row(split: str, seed: int, result: SequenceScores) -> dict:
    """
    Return one sequence's row: its object, its anchor's share off the surface, mean errors.

    The errors are every method's mean over the instants (%); the share is the anchor's
    vertices off the true surface (`off_surface_share`).
    """
    return {'split': split, 'family': result.family, 'seed': seed,
            'anchor_off_surface_%': result.anchor_off_surface,
            **{m: float(np.mean(curve)) for m, curve in result.error.items()}}


def family_rows(sequences: list[dict]) -> list[dict]:
    """
    Return one row per split and family: its number of sequences and the means of their rows.

    ``sequences`` are `sequence_row`s; every column but the seed is averaged. A split's mean
    hides which family a method fails on (one tumbling object can carry a seen figure).
    """
    rows = []
    for split, family in dict.fromkeys((r['split'], r['family']) for r in sequences):
        own = [r for r in sequences if (r['split'], r['family']) == (split, family)]
        values = [k for k in own[0] if k not in ('split', 'family', 'seed')]
        rows.append({'split': split, 'family': family, 'sequences': len(own),
                     **{k: float(np.mean([r[k] for r in own])) for k in values}})
    return rows


def run(cfg: TrackBenchConfig, out: Path, figures: Path | None = None) -> list[dict]:
    """
    Benchmark every method on seen and held-out families; print the table, write JSON.

    Also writes ``<out stem>_curves.json`` (error and drift per instant),
    ``<out stem>_sequences.json`` (`sequence_row`s) and ``<out stem>_families.json``
    (`family_rows`, printed too). With ``figures``, also write
    ``<split>.png`` there (the first sequence of each split: rows ``canonical``, ``register``
    and ``oracle_field`` tracks, columns the tracked instants, checker texture).
    """
    engine = ReconstructionEngine(EngineConfig(
        lrm_checkpoint=cfg.lrm_checkpoint, interpolation=cfg.interpolation,
        lim_checkpoint=cfg.lim_checkpoint, mesh_resolution=cfg.mesh_resolution))
    cameras = rig(4, engine.image_size)
    camera = rig(4, 192, radius=2.1).select(slice(0, 1))
    rows, curves, per_sequence = [], [], []
    for split, families in (('seen', SEEN_FAMILIES), ('held_out', HELD_OUT_FAMILIES)):
        results, sequences = [], []
        for i in tqdm(range(cfg.samples), desc=f'bench track {split}', unit='sequence'):
            obj = make_object(families[i % len(families)], cfg.seed + i)
            add_keyframes(engine, obj, cfg, cameras)
            figure: list[list[np.ndarray]] | None = [] if figures is not None and i == 0 \
                else None
            results.append(track_sequence(engine, obj, cfg, figure, camera))
            sequences.append(sequence_row(split, cfg.seed + i, results[-1]))
            if figure and figures is not None:
                figures.mkdir(parents=True, exist_ok=True)
                Image.fromarray(np.concatenate([np.concatenate(r, axis=1) for r in figure]))\
                    .save(figures / f'{split}.png')
        per_sequence += sequences
        for name in cfg.methods:
            error = np.mean([r.error[name] for r in results], axis=0)
            drift = np.mean([r.drift[name] for r in results], axis=0)
            curves.append({'split': split, 'method': name, 'error': error.tolist(),
                           'drift': drift.tolist()})
            rows.append({
                'split': split, 'method': name, 'error_%': float(error.mean()),
                'error_se_%': standard_error([row[name] for row in sequences]),
                'error_at_end_%': float(error[-1]), 'drift_%': float(drift.mean()),
                'far_at_end_%': float(np.mean([r.far[name][-1] for r in results])),
                'far_elsewhere_at_end_%': float(np.mean([r.far_elsewhere[name][-1]
                                                         for r in results])),
                're_anchors': sum(r.reanchors.get(name, 0) for r in results),
                'ms_per_frame': 1e3 * float(np.mean([r.seconds[name] for r in results]))
                / cfg.frames,
            })
    report(f'bench track: {cfg.samples} sequences per split, {cfg.duration} s, '
           f'{cfg.frames} frames, keyframes every {cfg.keyframe_gap} s, '
           f'% of the bounding-box diagonal ({Path(cfg.lrm_checkpoint).name}, '
           f'{cfg.interpolation})', rows, out)
    out.with_name(out.stem + '_curves.json').write_text(json.dumps(curves, indent=2) + '\n')
    report('bench track per sequence: mean error (% of the bounding-box diagonal)',
           per_sequence, out.with_name(out.stem + '_sequences.json'))
    report('bench track per family: mean error (% of the bounding-box diagonal)',
           family_rows(per_sequence), out.with_name(out.stem + '_families.json'))
    return rows
