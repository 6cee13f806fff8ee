"""
What processing a bag did: counts of keyframes and outputs, and bad input counted by kind.

Bad messages never stop the processing: each is counted under a kind (``ERROR_KINDS``) and
the first message of each kind is kept, so the summary says what went wrong and where.
"""

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

ERROR_KINDS = {
    'bad_image': 'image that cannot be decoded (encoding, sizes, data)',
    'no_camera_info': 'image of a camera with no CameraInfo yet',
    'bad_camera_info': 'CameraInfo with invalid intrinsics or a size unlike its images',
    'bad_message': 'message that cannot be deserialised',
    'bad_stamp': 'image whose stamp repeats the previous one of its camera',
    'bad_keyframe': 'synchronised images the engine refused (shapes, stamps)',
    'no_surface': 'output stamp whose reconstruction has no surface',
    'bad_output': 'output stamp that could not be reconstructed or serialised',
    'bad_track': 'output stamp whose tracked mesh could not be started or moved',
}


@dataclass
class ErrorTally:
    """Bad input counted by kind, with the first message of each kind."""

    counts: Counter = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)

    def add(self, kind: str, message: str) -> None:
        """Count one error of ``kind`` (a key of ``ERROR_KINDS``)."""
        assert kind in ERROR_KINDS, kind
        self.counts[kind] += 1
        self.first.setdefault(kind, message)

    @property
    def total(self) -> int:
        """Return the number of errors of every kind."""
        return sum(self.counts.values())


@dataclass
class BagSummary:
    """The result of `lim_ros.bag.process.process_bag`; stamps are ROS time, ns."""

    keyframe_stamps: list[int] = field(default_factory=list)
    output_stamps: list[int] = field(default_factory=list)
    camera_frames: int = 0  # decoded camera images offered to the synchroniser
    superseded: int = 0  # camera images replaced before they made a keyframe
    buffer_resets: int = 0  # times the clock went back and the buffer started again
    errors: ErrorTally = field(default_factory=ErrorTally)
    wall_s: float = 0.0
    tracks: int = 0  # tracked-mesh tracks started (0 without tracking)
    track_exports: list[Path] = field(default_factory=list)  # one GLB per exported track

    def table(self, title: str = 'lim-ros bag') -> Table:
        """Return the summary as a rich table: counts, then errors by kind."""
        table = Table(title=title)
        table.add_column('what')
        table.add_column('count', justify='right')
        table.add_column('note')
        span = ''
        if self.keyframe_stamps:
            first, last = self.keyframe_stamps[0], self.keyframe_stamps[-1]
            span = f'{(last - first) / 1e9:.2f} s of keyframes'
        rows = [('camera images decoded', self.camera_frames, ''),
                ('superseded before a keyframe', self.superseded, ''),
                ('keyframes', len(self.keyframe_stamps), span),
                ('outputs', len(self.output_stamps), 'points + marker + mesh each'),
                ('buffer resets', self.buffer_resets, 'the clock went back'),
                ('tracks', self.tracks, 'tracked meshes: a new track after each re-anchoring')]
        for what, count, note in rows:
            table.add_row(what, str(count), note)
        for kind, count in sorted(self.errors.counts.items()):
            table.add_row(f'error: {kind}', str(count), self.errors.first[kind])
        table.add_row('wall time', f'{self.wall_s:.1f} s', '')
        return table
