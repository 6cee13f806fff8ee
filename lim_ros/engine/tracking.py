"""
Tracked, UV-textured meshes over the engine: one mesh whose faces and texture stay fixed.

A track starts at the keyframe at or before the first stamp asked for: the engine's mesh there
is unwrapped (xatlas), a texture is baked from the decoded albedo (or a 3D checker, for
figures), and every vertex keeps its decoded canonical position. Later stamps move the
vertices (`lim_ros.geometry.tracking`): from the engine's mesh vertex at the stamp with the
nearest canonical position or from the last stamp's positions, whichever fits better
(``track_search: canonical``), or in sub-steps of at most ``track_substep`` seconds from
where the last sub-step's velocity carries them (``local``), then refined; or, in the same
sub-steps and from the same starts, the anchor
mesh is bent as rigidly as possible onto the decoded surface keeping its colours
(``register``, `lim_ros.geometry.registration`: no canonical head needed); when the residual
passes the re-anchoring limits, a stamp goes back in time or the track's last stamp has left
the keyframe buffer, a new track starts at that stamp, with a new id. Positions are in the
volume frame (metres); the tracker works in the unit cube.
"""

from dataclasses import dataclass, replace
import math

from lim_ros.engine.engine import ReconstructionEngine
from lim_ros.errors import ConfigError
from lim_ros.geometry.registration import mesh_edges, register_step, RegistrationConfig
from lim_ros.geometry.texture_bake import bake_texture, checker
from lim_ros.geometry.tracking import (
    best_step,
    canonical_search,
    extrapolate,
    track_step,
    TrackAnchor,
    TrackedMesh,
    TrackerConfig,
    TrackStep,
)
from lim_ros.geometry.uv_atlas import unwrap
import torch

TEXTURES = ('albedo', 'checker')
SEARCHES = ('canonical', 'local', 'register')
MIN_TRACK_GRID, MAX_TRACK_GRID = 16, 256  # track_grid's samples per side, when not 0


def check_track_grid(value: object) -> None:
    """Raise ConfigError unless ``value`` is 0 or in [MIN_TRACK_GRID, MAX_TRACK_GRID]."""
    if isinstance(value, bool) or not isinstance(value, int) \
            or not (value == 0 or MIN_TRACK_GRID <= value <= MAX_TRACK_GRID):
        raise ConfigError(f'track_grid: expected 0 or an integer in [{MIN_TRACK_GRID}, '
                          f'{MAX_TRACK_GRID}], got {value!r}')


@dataclass(frozen=True)
class TrackingConfig:
    """Track and texture settings; the node's parameters carry the same names."""

    tracking: bool = True  # publish / export tracked meshes
    track_texture: str = 'albedo'  # 'albedo' (decoded colour) or 'checker' (3D checker)
    track_texture_size: int = 512  # texels per side
    track_checker_cell: float = 0.1  # checker cube edge, metres
    track_substep: float = 0.1  # largest time step of one tracking update, seconds
    track_reanchor_error: float = 0.03  # metres: mean residual that starts a new track
    track_search: str = 'canonical'  # 'canonical', 'local' or 'register' (module docstring)
    track_grid: int = 0  # 0: the decoder at every step; R: fields read from an R^3 grid
    track_colour_weight: float = 0.1  # register: weight of the anchor-colour term; 0: shape

    def __post_init__(self) -> None:
        """Validate every field; raise ConfigError naming the first bad one."""
        if not isinstance(self.tracking, bool):
            raise ConfigError(f'tracking: expected true or false, got {self.tracking!r}')
        if self.track_search not in SEARCHES:
            raise ConfigError(f'track_search: expected one of {SEARCHES}, '
                              f'got {self.track_search!r}')
        if self.track_texture not in TEXTURES:
            raise ConfigError(f'track_texture: expected one of {TEXTURES}, '
                              f'got {self.track_texture!r}')
        size = self.track_texture_size
        if isinstance(size, bool) or not isinstance(size, int) or not 8 <= size <= 4096:
            raise ConfigError(f'track_texture_size: expected an integer in [8, 4096], '
                              f'got {size!r}')
        check_track_grid(self.track_grid)
        for name in ('track_checker_cell', 'track_substep', 'track_reanchor_error'):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not 0.0 < value < math.inf:
                raise ConfigError(f'{name}: expected a positive finite number, got {value!r}')
        weight = self.track_colour_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
                or not 0.0 <= weight < math.inf:
            raise ConfigError(f'track_colour_weight: expected a finite number >= 0, '
                              f'got {weight!r}')


class MeshTracker:
    """Keeps the current track over an engine; see the module docstring."""

    def __init__(self, engine: ReconstructionEngine, config: TrackingConfig,
                 tracker: TrackerConfig | None = None,
                 registration: RegistrationConfig | None = None) -> None:
        """
        Track geometry answered by ``engine``.

        ``tracker`` tunes the canonical updates and re-anchoring, ``registration`` the
        ``register`` search's updates; their colour term's weight is always
        ``config.track_colour_weight``.
        """
        self.engine = engine
        self.config = config
        self.unit_tracker_config = replace(  # the tracker works in the unit cube
            tracker or TrackerConfig(),
            reanchor_error=config.track_reanchor_error / engine.volume.half_size)
        self.registration = replace(registration or RegistrationConfig(),
                                    colour_weight=config.track_colour_weight)
        self.tracks_started = 0
        self._anchor: TrackAnchor | None = None
        # for 'register': the anchor's mesh edges (E, 2), unit-cube vertices and albedo (V, 3),
        # and the edges' weights (E,) after the last step (None: none yet)
        self._edges = self._rest = self._albedo = torch.empty(0)
        self._edge_weights: torch.Tensor | None = None
        self._positions = torch.empty(0)  # (V, 3) unit cube at self._stamp, on the device
        self._stamp = -1
        # 'local' and 'register': unit-cube velocity (V, 3) per second over the last sub-step
        self._velocity: torch.Tensor | None = None

    def tracked_mesh(self, stamp_ns: int, resolution: int | None = None) -> TrackedMesh:
        """
        Return the tracked mesh at ``stamp_ns`` (resolved by the engine's out-of-range policy).

        Meshes are the engine's at ``resolution`` (default: its ``mesh_resolution``), so the
        node's untracked mesh at the same stamp and resolution is reused from the cache.

        :raises StampError: as `ReconstructionEngine.resolve`.
        :raises ShapeError: if the anchor reconstruction has no surface.
        """
        stamp = self.engine.resolve(stamp_ns)
        span, anchor = self.engine.span, self._anchor
        # a track also restarts when its last stamp has left the buffer: its field is gone
        if anchor is None or stamp < self._stamp or span is None or self._stamp < span[0]:
            anchor, new_track = self._start(self.engine.keyframe_at_or_before(stamp),
                                            resolution), True
        else:
            new_track = False
        step = self._advance(anchor, stamp, resolution)
        if step is not None and step.needs_reanchor(self.unit_tracker_config):
            anchor = self._start(stamp, resolution)
            step, new_track = None, True
        error = 0.0 if step is None else step.error * self.engine.volume.half_size
        unit = anchor.atlas.expand(self._positions.cpu())
        return TrackedMesh(stamp, anchor, self.engine.volume.to_volume(unit).float(),
                           error, new_track or anchor.stamp_ns == stamp)

    def _start(self, stamp: int, resolution: int | None) -> TrackAnchor:
        mesh = self.engine.mesh(stamp, resolution)
        unit = self.engine.volume.to_unit(mesh.vertices).to(self.engine.device)
        atlas = unwrap(mesh)
        if self.config.track_texture == 'checker':
            colour = checker(self.config.track_checker_cell / self.engine.volume.half_size)
        else:
            def colour(points: torch.Tensor) -> torch.Tensor:
                return self.engine.albedo(stamp, points)
        texture = bake_texture(atlas, atlas.expand(unit), colour,
                               self.config.track_texture_size)
        grid = self.config.track_grid
        with torch.no_grad():
            canonical = self.engine.correspondence_field(stamp, grid)(unit)[1]
            if self.config.track_search == 'register':
                self._edges = mesh_edges(mesh.faces).to(self.engine.device)
                self._albedo = self.engine.surface_field(stamp, grid)(unit)[1]
                self._rest, self._edge_weights = unit, None
        self.tracks_started += 1
        anchor = TrackAnchor(self.tracks_started, stamp, atlas,
                             atlas.expand(mesh.vertices.float()), texture, canonical)
        self._anchor, self._positions, self._stamp, self._velocity = anchor, unit, stamp, None
        return anchor

    def _advance(self, anchor: TrackAnchor, stamp: int,
                 resolution: int | None) -> TrackStep | None:
        """
        Move the vertices from the last stamp to ``stamp``; None if the stamp did not change.

        'canonical' search refines two starts per vertex, its previous position and the
        engine's mesh vertex (at ``stamp``) with the nearest canonical position, and keeps the
        better; 'local' and 'register' go in sub-steps of at most ``track_substep``, each
        starting where the vertices' velocity over the last sub-step carries them
        (`extrapolate`; from the anchor, their positions).
        """
        if stamp == self._stamp:
            return None
        if self.config.track_search == 'canonical':
            canonical = anchor.canonical
            field = self.engine.correspondence_field(stamp, self.config.track_grid)
            surface = self.engine.volume.to_unit(self.engine.mesh(stamp, resolution).vertices)
            found = canonical_search(field, canonical, surface.to(self.engine.device))
            step = best_step(field, canonical, [self._positions, found],
                             self.unit_tracker_config)
            self._positions, self._stamp = step.positions, stamp
            return step
        substep_ns = int(self.config.track_substep * 1e9)
        start = self._stamp
        count = max(1, math.ceil((stamp - start) / substep_ns))
        for i in range(1, count + 1):  # a failing sub-step leaves the last one's state
            at = start + (stamp - start) * i // count
            seconds = (at - self._stamp) * 1e-9
            step = self._local_step(anchor, at,
                                    extrapolate(self._positions, self._velocity, seconds))
            self._velocity = (step.positions - self._positions) / seconds
            self._positions, self._stamp = step.positions, at
        return step

    def _local_step(self, anchor: TrackAnchor, stamp: int, start: torch.Tensor) -> TrackStep:
        """Move the vertices from ``start`` (V, 3) onto the geometry at ``stamp``."""
        if self.config.track_search == 'register':
            step = register_step(self.engine.surface_field(stamp, self.config.track_grid),
                                 self._rest, self._albedo, self._edges, start, self.registration,
                                 self._edge_weights)
            self._edge_weights = step.edge_weights
            return step
        return track_step(self.engine.correspondence_field(stamp, self.config.track_grid),
                          anchor.canonical, start, self.unit_tracker_config)
