"""
``lim-ros bag``: the node's engine run over a recorded bag, outputs written to a new bag.

Camera frames (`lim_ros.bag.reader`) go through the node's `FrameSynchronizer` into
`ReconstructionEngine` keyframes. Outputs are due at stamps ``t_j = t_0 + j / rate`` (t_0
the first keyframe's stamp, j = 0, 1, ...). The engine's buffer is bounded, so the work
streams: after each new keyframe, every due stamp up to that keyframe is reconstructed and
written, while the keyframes around it are still in the buffer; outputs thus lag the newest
keyframe, as the node's do. A clock going back (a looping bag) restarts the grid at the next
keyframe. Each output is written on ``/lim_node/points``, ``/lim_node/mesh_marker`` and
``/lim_node/mesh`` with header stamp and bag timestamp t_j, in ``volume_frame``; with the
``tracking`` parameter, also the node's tracked-mesh topics (`lim_ros.bag.tracks`), and
with ``BagJob.tracks`` every track is exported as GLB and OBJ + PNG there.
"""

from collections.abc import Callable
from dataclasses import dataclass
import math
from pathlib import Path
import time

from lim_ros.bag.reader import camera_frames, open_bag
from lim_ros.bag.summary import BagSummary
from lim_ros.bag.topics import (
    MARKER_TOPIC,
    MESH_TOPIC,
    OUTPUT_TOPICS,
    POINTS_TOPIC,
    TRACKED_TOPICS,
)
from lim_ros.bag.tracks import TrackOutputs
from lim_ros.bag.writer import BagWriter, qos, STORAGES
from lim_ros.engine import Reconstruction, ReconstructionEngine
from lim_ros.engine.messages import output_messages
from lim_ros.errors import BagError, ConfigError, LimError, ShapeError, StampError
from lim_ros.stream.settings import NodeSettings
from lim_ros.stream.synchronizer import FrameSynchronizer, keyframe_inputs
from lim_ros.wire.time import NS_PER_S


@dataclass(frozen=True)
class BagJob:
    """Which bag to read, which to write, and when outputs are due."""

    input_bag: Path  # a rosbag2 directory (sqlite3 or mcap)
    output_bag: Path  # a new rosbag2 directory; must not exist
    rate: float = 10.0  # Hz: outputs per second of bag time
    start: float | None = None  # s after the bag's first message: images before are skipped
    end: float | None = None  # s after the bag's first message: reading stops there
    storage: str = 'sqlite3'  # of the output bag: 'sqlite3' or 'mcap'
    tracks: Path | None = None  # export tracked meshes here (GLB, OBJ + PNG); None: do not

    def __post_init__(self) -> None:
        """Validate the rate, the window and the storage."""
        if not 0.0 < float(self.rate) <= 1000.0:
            raise ConfigError(f'rate: expected a rate in (0, 1000] Hz, got {self.rate!r}')
        for name in ('start', 'end'):
            value = getattr(self, name)
            if value is not None and not 0.0 <= float(value) < math.inf:
                raise ConfigError(f'{name}: expected seconds >= 0 from the bag start, '
                                  f'got {value!r}')
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ConfigError(f'end: expected after start ({self.start} s), got {self.end} s')
        if self.storage not in STORAGES:
            raise ConfigError(f'storage: expected one of {sorted(STORAGES)}, '
                              f'got {self.storage!r}')

    def stamp(self, first_ns: int, index: int) -> int:
        """Return output stamp ``index`` of the grid starting at ``first_ns``, ns."""
        return first_ns + round(index * NS_PER_S / self.rate)


@dataclass(frozen=True)
class Output:
    """One output written to the bag."""

    stamp_ns: int
    keyframe: bool  # the stamp is a keyframe's (else it is interpolated)
    reconstruction: Reconstruction


OnOutput = Callable[[Output, ReconstructionEngine], None]

# The node's QoS (lim_ros.ros.outputs), offered again by `ros2 bag play`.
OUTPUT_QOS = {POINTS_TOPIC: qos(reliable=True, depth=1),
              MARKER_TOPIC: qos(reliable=True, transient_local=True, depth=1),
              MESH_TOPIC: qos(reliable=True, transient_local=True, depth=1),
              **{topic: qos(reliable=True, transient_local=True, depth=1)
                 for topic in TRACKED_TOPICS}}


class _OutputGrid:
    """The due output stamps t_0 + j / rate, t_0 = ``first_ns``; a new grid per buffer reset."""

    def __init__(self, job: BagJob, first_ns: int) -> None:
        self.job = job
        self.first, self.next_index = first_ns, 0

    def due(self, newest_keyframe_ns: int) -> list[int]:
        """Return the stamps not yet emitted up to ``newest_keyframe_ns`` and consume them."""
        stamps = []
        while (stamp := self.job.stamp(self.first, self.next_index)) <= newest_keyframe_ns:
            stamps.append(stamp)
            self.next_index += 1
        return stamps


def process_bag(job: BagJob, params: NodeSettings, engine: ReconstructionEngine | None = None,
                on_output: OnOutput | None = None) -> BagSummary:
    """
    Run ``params``'s engine over ``job.input_bag`` and write the outputs to ``job.output_bag``.

    ``engine`` (default: one built from ``params.engine``) is cleared first.
    ``on_output`` is called after each output is written, while its keyframes are in the
    engine's buffer (the demo scores and renders there).

    :raises BagError: if the input is not a bag, the output exists, or the bag holds no
        usable camera frames (no keyframe could be made).
    :raises ConfigError: if the parameters take camera poses from TF (a bag is processed
        with ``camera_poses``).
    """
    pose_source = params.ros.pose_source
    if pose_source != 'parameters':
        raise ConfigError('pose_source: lim-ros bag takes the camera poses from camera_poses '
                          f'(pose_source: parameters), got {pose_source!r}')
    start_time = time.perf_counter()
    engine = engine if engine is not None else ReconstructionEngine(params.engine)
    engine.clear()
    stream = params.stream
    poses = stream.poses()
    sync = FrameSynchronizer(stream.cameras, stream.sync_tolerance_ns,
                             stream.keyframe_interval_ns)
    summary = BagSummary()
    grid: _OutputGrid | None = None  # made at the first keyframe
    keyframes: set[int] = set()
    tracks = TrackOutputs(engine, params.tracking, job.tracks) \
        if params.tracking.tracking else None
    topics = {**OUTPUT_TOPICS, **(TRACKED_TOPICS if tracks is not None else {})}
    writer = BagWriter(job.output_bag, job.storage, topics,
                       {topic: OUTPUT_QOS[topic] for topic in topics})
    with open_bag(job.input_bag) as reader, writer as out:
        bag_start = reader.start_time
        window = [None if s is None else bag_start + round(s * NS_PER_S)
                  for s in (job.start, job.end)]
        for camera, frame in camera_frames(reader, stream.cameras, summary.errors, *window):
            summary.camera_frames += 1
            try:
                synced = sync.offer(camera, frame)
            except StampError as error:
                summary.errors.add('bad_stamp', f'{camera} image: {error}')
                continue
            if synced is None:
                continue
            try:
                insertion = engine.add_keyframe(
                    synced.stamp_ns, *keyframe_inputs(synced, stream.cameras, poses))
            except LimError as error:
                summary.errors.add('bad_keyframe', f'keyframe at {synced.stamp_ns} ns: {error}')
                continue
            if insertion.reset or grid is None:
                summary.buffer_resets += insertion.reset
                keyframes.clear()
                grid = _OutputGrid(job, synced.stamp_ns)
            keyframes.add(synced.stamp_ns)
            summary.keyframe_stamps.append(synced.stamp_ns)
            for stamp in grid.due(synced.stamp_ns):
                _emit(engine, stamp, stamp in keyframes, stream.volume_frame, out, summary,
                      on_output, tracks)
        summary.superseded = sync.superseded
    if tracks is not None:
        tracks.finish()
        summary.tracks = tracks.tracker.tracks_started
        summary.track_exports = tracks.exported
    summary.wall_s = time.perf_counter() - start_time
    if not summary.keyframe_stamps:
        kinds = ', '.join(f'{k}: {n}' for k, n in sorted(summary.errors.counts.items()))
        raise BagError(f'{job.input_bag}: no usable camera frames for the cameras '
                       f'{stream.cameras} ({summary.camera_frames} images decoded, none made '
                       f'a synchronised keyframe; errors: {kinds or "none"}); nothing written')
    return summary


def _emit(engine: ReconstructionEngine, stamp: int, keyframe: bool, frame_id: str,
          out: BagWriter, summary: BagSummary, on_output: OnOutput | None,
          tracks: TrackOutputs | None) -> None:
    """Reconstruct, serialise and write the output at ``stamp``; count a failure."""
    try:
        reconstruction = engine.reconstruction(stamp)
    except ShapeError as error:  # the engine's word for an empty reconstruction
        summary.errors.add('no_surface', f'output at {stamp} ns: {error}')
        return
    except LimError as error:
        summary.errors.add('bad_output', f'output at {stamp} ns: {error}')
        return
    try:
        messages = output_messages(reconstruction, frame_id)
    except LimError as error:
        summary.errors.add('bad_output', f'output at {stamp} ns: {error}')
        return
    for topic, data in zip((POINTS_TOPIC, MARKER_TOPIC, MESH_TOPIC), messages):
        out.write(topic, stamp, data)
    summary.output_stamps.append(stamp)
    if tracks is not None:
        try:
            tracks.write(stamp, frame_id, out)
        except LimError as error:
            summary.errors.add('bad_track', f'tracked mesh at {stamp} ns: {error}')
    if on_output is not None:
        on_output(Output(stamp, keyframe, reconstruction), engine)
