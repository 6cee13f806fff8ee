"""
The ROS-free runtime: keyframes in, geometry at any stamp out.

`ReconstructionEngine` owns the LRM, the keyframe buffer and a small LRU cache of query
results (and, for monocular input with generated views, the multi-view generator of
`lim_ros.monocular`). ``add_keyframe`` reconstructs posed camera images of one instant into a
triplane; ``triplane``, ``mesh``, ``points`` and ``reconstruction`` answer at any stamp inside
the buffer by interpolating between the bracketing keyframes. Stamps are ROS time in integer
nanoseconds; geometry is in the volume frame (metres). Methods are thread-safe: one lock
guards the buffer and the cache, so a camera thread and a publishing thread can share one
engine.
"""

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
import threading
import time

from lim_ros.cameras import Cameras
from lim_ros.engine.assets import DEFAULT_GENERATOR, DEFAULT_LIM, DEFAULT_LRM, model_path
from lim_ros.engine.config import check_mesh_resolution, EngineConfig
from lim_ros.engine.extraction import (
    colours_at,
    FIELD_CHANNELS,
    field_grid,
    mesh_from_grid,
    PointCloud,
    sdf_grid,
    surface_points,
)
from lim_ros.engine.interpolation import interpolator
from lim_ros.engine.keyframe_buffer import Insertion, Keyframe, KeyframeBuffer
from lim_ros.engine.preprocess import model_inputs
from lim_ros.engine.volume import Volume
from lim_ros.errors import ShapeError, StampError
from lim_ros.geometry.grid import sample_grid
from lim_ros.geometry.mesh import Mesh
from lim_ros.geometry.registration import SurfaceField
from lim_ros.geometry.tracking import CorrespondenceField
from lim_ros.models.lim import LIM, load_lim
from lim_ros.models.lrm import load_lrm, LRM
from lim_ros.monocular.loading import load_generator
from lim_ros.monocular.views import MultiViewGenerator, with_generated
import numpy as np
import torch


@dataclass(frozen=True)
class Reconstruction:
    """The shape at one stamp: a coloured mesh and coloured surface points, volume frame."""

    stamp_ns: int  # the stamp the geometry is for (the clamped one under 'clamp')
    mesh: Mesh
    points: PointCloud


@dataclass(frozen=True)
class BufferStatus:
    """The keyframe buffer at one moment."""

    keyframes: int
    nbytes: int
    span: tuple[int, int] | None  # (oldest, newest) stamps, ns


@dataclass
class EngineStats:
    """Counters and the last timings, for diagnostics."""

    keyframes_added: int = 0
    buffer_resets: int = 0
    keyframes_evicted: int = 0
    queries: int = 0
    cache_hits: int = 0
    last_keyframe_ms: float = 0.0  # images → keyframe in the buffer
    last_query_ms: float = 0.0  # stamp → geometry (cache misses only)


class ReconstructionEngine:
    """Keyframe buffer + LRM + interpolation + geometry extraction; see the module docstring."""

    def __init__(self, config: EngineConfig, lrm: LRM | None = None,
                 lim: LIM | None = None, generator: MultiViewGenerator | None = None) -> None:
        """
        Load the models onto ``config.device``.

        The LRM comes from ``config.lrm_checkpoint`` (or is ``lrm``); with interpolation
        ``lim``, LIM comes from ``config.lim_checkpoint`` (or is ``lim``) and must fit the LRM;
        with monocular input of generated views, the generator comes from
        ``config.generator_checkpoint`` (or is ``generator``).
        """
        self.config = config
        self.device = torch.device(config.device)
        self.lrm = (lrm if lrm is not None else load_lrm(
            model_path(config.lrm_checkpoint, DEFAULT_LRM))).to(self.device).eval()
        if config.interpolation == 'lim':
            if lim is None:
                lim = load_lim(model_path(config.lim_checkpoint, DEFAULT_LIM))
            lim.config.check_lrm(self.lrm.config)
            lim = lim.to(self.device).eval()
        self.generator = None
        if config.input_mode == 'monocular' and config.monocular_views == 'generated':
            if generator is None:
                generator = load_generator(
                    model_path(config.generator_checkpoint, DEFAULT_GENERATOR),
                    self.device, config.generator_steps, config.generator_seed,
                    config.generator_trust_code)
            self.generator = generator
        self.volume = Volume(tuple(config.volume_center), config.volume_size)
        self.interpolate = interpolator(config.interpolation, lim)
        self.buffer = KeyframeBuffer(config.max_keyframes, config.max_buffer_bytes)
        self.stats = EngineStats()
        self._cache: OrderedDict[tuple, object] = OrderedDict()
        self._lock = threading.RLock()

    @property
    def image_size(self) -> int:
        """Return the side of the LRM's square input views, pixels."""
        return self.lrm.config.image_size

    @property
    def span(self) -> tuple[int, int] | None:
        """Return the (oldest, newest) keyframe stamps in ns, or None when the buffer is empty."""
        with self._lock:
            return self.buffer.span

    def buffer_status(self) -> BufferStatus:
        """Return the buffer's keyframe count, bytes and span, read together under the lock."""
        with self._lock:
            return BufferStatus(len(self.buffer), self.buffer.nbytes, self.buffer.span)

    @torch.no_grad()
    def add_keyframe(self, stamp_ns: int, images: np.ndarray, cameras: Cameras) -> Insertion:
        """
        Reconstruct one instant and insert it into the buffer.

        ``images`` (V, H, W, 3) uint8 RGB, any size (centre-cropped and resized to the LRM's
        input); ``cameras`` their intrinsics (pixels, for H x W) and camera-to-volume-frame
        poses (metres, OpenCV convention). Under ``input_mode`` monocular V is 1, and with
        generated views the generator's K views join it (the camera must then look at the
        volume centre, level). The result says whether the buffer was reset (the stamp went
        back in time) and how many old keyframes were evicted.

        :raises ShapeError: on bad images or cameras.
        :raises StampError: on a negative or repeated stamp.
        """
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, int) or stamp_ns < 0:
            raise StampError(f'stamp: expected a non-negative integer of ns, got {stamp_ns!r}')
        start = time.perf_counter()
        views, model_cameras = model_inputs(images, cameras, self.image_size)
        unit_cameras = self.volume.cameras_to_unit(model_cameras)
        if self.config.input_mode == 'monocular' and len(views) != 1:
            raise ShapeError(f'images: input_mode monocular takes 1 view, got {len(views)}')
        if self.generator is not None:
            views, unit_cameras = with_generated(self.generator, views[0], unit_cameras)
        out = self.lrm.reconstruct(views.to(self.device), unit_cameras.to(self.device))
        keyframe = Keyframe(stamp_ns, out.planes.float(), out.features.float())
        with self._lock:
            insertion = self.buffer.add(keyframe)
            if insertion.reset:
                self._cache.clear()
                self.stats.buffer_resets += 1
            self.stats.keyframes_added += 1
            self.stats.keyframes_evicted += insertion.evicted
            self.stats.last_keyframe_ms = 1e3 * (time.perf_counter() - start)
        return insertion

    def clear(self) -> None:
        """Forget every keyframe and cached result."""
        with self._lock:
            self.buffer.clear()
            self._cache.clear()

    def resolve(self, stamp_ns: int) -> int:
        """
        Return the stamp a query for ``stamp_ns`` is answered at, by the out-of-range policy.

        :raises StampError: if the buffer is empty, or ``stamp_ns`` lies outside it under
            'reject'.
        """
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, int):
            raise StampError(f'stamp: expected an integer of ns, got {stamp_ns!r}')
        with self._lock:
            span = self.buffer.span
        if span is None:
            raise StampError(f'stamp: {stamp_ns} ns requested, but the keyframe buffer is empty')
        if self.config.out_of_range == 'clamp':
            return min(max(stamp_ns, span[0]), span[1])
        if not span[0] <= stamp_ns <= span[1]:
            raise StampError(f'stamp: {stamp_ns} ns is outside the keyframe buffer '
                             f'[{span[0]}, {span[1]}] ns (out_of_range: reject)')
        return stamp_ns

    def triplane(self, stamp_ns: int) -> torch.Tensor:
        """Return the planes (1, 3, C, N, N) at ``stamp_ns``, on the engine's device."""
        stamp = self.resolve(stamp_ns)
        return self._cached(('planes', stamp), lambda: self._interpolate(stamp))

    def mesh(self, stamp_ns: int, resolution: int | None = None) -> Mesh:
        """
        Return the coloured mesh at ``stamp_ns`` (volume frame, metres, on the CPU).

        ``resolution`` is the marching-cubes grid per side (default: the config's).

        :raises ShapeError: if the reconstruction has no surface at that stamp.
        :raises ConfigError: for a resolution outside [8, ``MAX_MESH_RESOLUTION``].
        """
        stamp, r = self.resolve(stamp_ns), resolution or self.config.mesh_resolution
        check_mesh_resolution(r)
        return self._cached(('mesh', stamp, r), lambda: self._mesh(stamp, r))

    def points(self, stamp_ns: int, count: int | None = None,
               resolution: int | None = None) -> PointCloud:
        """Return ``count`` coloured surface points at ``stamp_ns`` (volume frame, on the CPU)."""
        stamp, n = self.resolve(stamp_ns), count or self.config.num_points
        mesh = self.mesh(stamp, resolution)
        planes = self.triplane(stamp)
        return self._cached(('points', stamp, resolution, n),
                            lambda: surface_points(self.lrm.decode, planes, mesh, self.volume, n))

    def reconstruction(self, stamp_ns: int, count: int | None = None,
                       resolution: int | None = None) -> Reconstruction:
        """Return mesh and points at ``stamp_ns`` (see `mesh` and `points`)."""
        stamp = self.resolve(stamp_ns)
        return Reconstruction(stamp, self.mesh(stamp, resolution),
                              self.points(stamp, count, resolution))

    def keyframe_at_or_before(self, stamp_ns: int) -> int:
        """Return the stamp of the newest keyframe not after ``stamp_ns`` (resolved first)."""
        stamp = self.resolve(stamp_ns)
        with self._lock:
            return self.buffer.bracket(stamp)[0].stamp_ns

    def correspondence_field(self, stamp_ns: int,
                             grid_resolution: int = 0) -> CorrespondenceField:
        """
        Return the decoded (SDF, canonical) field at ``stamp_ns``, on unit-cube points.

        The field is differentiable in the points (for `lim_ros.geometry.tracking`); with a
        ``grid_resolution``, it is read from `field_grid` (see `_decoded_field`).
        """
        return self._decoded_field(stamp_ns, 'canonical', grid_resolution)

    def surface_field(self, stamp_ns: int, grid_resolution: int = 0) -> SurfaceField:
        """
        Return the decoded (SDF, albedo) field at ``stamp_ns``, on unit-cube points.

        The field is differentiable in the points (for `lim_ros.geometry.registration`); with
        a ``grid_resolution``, it is read from `field_grid` (see `_decoded_field`).
        """
        return self._decoded_field(stamp_ns, 'albedo', grid_resolution)

    def _decoded_field(self, stamp_ns: int, second: str, grid_resolution: int
                       ) -> Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]:
        """
        Return points (N, 3) → (decoded SDF (N,), decoded ``second`` (N, 3)) at a stamp.

        ``grid_resolution`` 0: the decoder runs on the points. R > 0: every field is decoded
        once per stamp on an R^3 grid (`field_grid`, cached) and read trilinearly, which costs
        one grid lookup per call instead of a decoder pass.
        """
        if grid_resolution:
            stamp = self.resolve(stamp_ns)
            grid = self._cached(('fields', stamp, grid_resolution), lambda: field_grid(
                self.lrm.decode, self.triplane(stamp), grid_resolution).float())
            channels = FIELD_CHANNELS[second]

            def read(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
                values = sample_grid(grid, points.to(grid.device))
                return values[:, 0], values[:, channels]

            return read
        planes = self.triplane(stamp_ns)

        def field(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            out = self.lrm.decode(planes, points.to(planes.device)[None])
            return out.sdf[0].float(), getattr(out, second)[0].float()

        return field

    def albedo(self, stamp_ns: int, unit_points: torch.Tensor) -> torch.Tensor:
        """Return the decoded RGB colour (N, 3) in [0, 1] at unit-cube points (N, 3), on CPU."""
        planes = self.triplane(stamp_ns)
        return colours_at(self.lrm.decode, planes, unit_points.to(planes.device)).cpu()

    def _interpolate(self, stamp: int) -> torch.Tensor:
        with self._lock:
            k0, k1, alpha = self.buffer.bracket(stamp)
        with torch.no_grad():
            return self.interpolate(k0, k1, alpha)

    def _mesh(self, stamp: int, resolution: int) -> Mesh:
        planes = self.triplane(stamp)
        grid = sdf_grid(self.lrm.decode, planes, resolution)
        return mesh_from_grid(self.lrm.decode, planes, grid, self.volume,
                              self.config.mesh_target_faces)

    def _cached(self, key: tuple, compute):
        with self._lock:
            self.stats.queries += 1
            if key in self._cache:
                self.stats.cache_hits += 1
                self._cache.move_to_end(key)
                return self._cache[key]
        start = time.perf_counter()
        value = compute()
        with self._lock:
            self.stats.last_query_ms = 1e3 * (time.perf_counter() - start)
            if self.config.cache_size > 0:
                self._cache[key] = value
                while len(self._cache) > self.config.cache_size:
                    self._cache.popitem(last=False)
        return value
