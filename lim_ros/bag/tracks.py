"""
Tracked meshes of ``lim-ros bag``: written to the output bag, and exported track by track.

For every output stamp the `MeshTracker` moves the current track to the stamp; the node's
tracked topics (`lim_ros.engine.messages.TrackedSerializer`) are written with the bag
timestamp of the output, the anchor and texture once per track. With an export folder, each
track, when it ends (a new track starts or the bag ends), is written there as
``track_<id>.glb`` (animated) and ``track_<id>/track_<id>_<k>.obj`` + ``.mtl`` + ``.png``.
"""

from pathlib import Path

from lim_ros.bag.topics import (
    TRACK_ANCHOR_TOPIC,
    TRACK_TEXTURE_TOPIC,
    TRACKED_MARKER_TOPIC,
    TRACKED_MESH_TOPIC,
)
from lim_ros.bag.writer import BagWriter
from lim_ros.engine import ReconstructionEngine
from lim_ros.engine.messages import TrackedSerializer
from lim_ros.engine.tracking import MeshTracker, TrackingConfig
from lim_ros.geometry.track_export import write_track_glb, write_track_obj
from lim_ros.geometry.tracking import TrackedMesh


class TrackOutputs:
    """The tracked-mesh part of the bag's outputs; see the module docstring."""

    def __init__(self, engine: ReconstructionEngine, config: TrackingConfig,
                 export_dir: Path | None) -> None:
        """Track ``engine``'s geometry; export finished tracks to ``export_dir`` if given."""
        self.tracker = MeshTracker(engine, config)
        self.export_dir = export_dir
        self.exported: list[Path] = []  # GLB files, one per track
        self._frames: list[TrackedMesh] = []  # the current track's, kept only to export it
        self._serialize = TrackedSerializer()

    def write(self, stamp_ns: int, frame_id: str, out: BagWriter) -> TrackedMesh:
        """
        Track to ``stamp_ns`` and write the tracked topics.

        :raises LimError: if the track cannot be started or moved (nothing is written).
        """
        tracked = self.tracker.tracked_mesh(stamp_ns)
        blobs = self._serialize(tracked, frame_id)
        if blobs.anchor is not None and blobs.texture is not None:  # a new track: both set
            self.finish()
            out.write(TRACK_ANCHOR_TOPIC, stamp_ns, blobs.anchor)
            out.write(TRACK_TEXTURE_TOPIC, stamp_ns, blobs.texture)
        out.write(TRACKED_MESH_TOPIC, stamp_ns, blobs.mesh)
        out.write(TRACKED_MARKER_TOPIC, stamp_ns, blobs.marker)
        if self.export_dir is not None:
            self._frames.append(tracked)
        return tracked

    def finish(self) -> None:
        """Export the current track (if exporting) and start collecting the next one."""
        if self.export_dir is not None and self._frames:
            self.export_dir.mkdir(parents=True, exist_ok=True)
            stem = f'track_{self._frames[0].anchor.track_id}'
            self.exported.append(write_track_glb(self.export_dir / f'{stem}.glb', self._frames))
            write_track_obj(self.export_dir / stem, self._frames)
        self._frames = []
