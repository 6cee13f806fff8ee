"""
The node's counters, and the /diagnostics status they make.

`NodeCounters` is the node's own bookkeeping (tests read it): errors by kind, queue drops,
skips, latencies. `DiagnosticsReporter` turns it and the engine's buffer into one
``diagnostic_msgs/DiagnosticStatus`` named ``<node name>: reconstruction`` (as
diagnostic_updater names tasks; ``lim_node: reconstruction`` by default), with the node's
full name as the first value: WARN when errors grew since the previous report, else OK.
Rates are measured between two reports.
"""

from dataclasses import dataclass, field, fields
import os
import resource
import threading

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from lim_ros.engine import ReconstructionEngine
import torch

# What went wrong, one counter each; see the README's diagnostics table.
ERROR_KINDS = (
    'bad_image',  # an image that does not decode (encoding, size, data)
    'camera_info_missing',  # an image before any CameraInfo of its camera
    'camera_info_mismatch',  # CameraInfo of another size, distorted, or with a bad k
    'bad_pose',  # no camera pose (tf lookup failed)
    'bad_shape',  # a keyframe refused: image sizes differ, bad cameras, over max_buffer_mb
    'stamp',  # an invalid or repeated stamp
    'query_outside',  # a query for a stamp outside the buffer
    'bad_request',  # a query with invalid sizes or a stamp that is no time
    'tracking',  # a tracked mesh that could not be started or moved (no surface at the anchor)
    'internal',  # an unexpected exception (a bug): logged with its traceback
)
STATUS_TASK = 'reconstruction'


@dataclass
class NodeCounters:
    """Counters and last timings of the node; thread-safe through its methods."""

    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ERROR_KINDS, 0))
    keyframes: int = 0  # keyframes added to the buffer
    outputs: int = 0  # reconstructions published (points, marker and mesh)
    skipped_outputs: int = 0  # publish ticks with no stamp inside the buffer
    queue_drops: int = 0  # synchronised sets replaced before the worker took them
    superseded: int = 0  # camera frames replaced before they made a set
    buffer_resets: int = 0  # stamps went back in time: the buffer started again
    queries: int = 0  # service calls answered
    last_keyframe_ms: float = 0.0  # set complete → keyframe in the buffer
    last_query_ms: float = 0.0  # service request → response
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def error(self, kind: str) -> None:
        """Count one error of ``kind`` (one of ERROR_KINDS)."""
        with self._lock:
            self.errors[kind] += 1

    def add(self, **increments: int) -> None:
        """Add to counters by name."""
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def assign(self, **values: float) -> None:
        """Set counters or timings by name."""
        with self._lock:
            for name, value in values.items():
                setattr(self, name, value)

    def snapshot(self) -> 'NodeCounters':
        """Return a consistent copy."""
        with self._lock:
            values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != '_lock'}
        values['errors'] = dict(values['errors'])
        return NodeCounters(**values)

    @property
    def total_errors(self) -> int:
        """Return the errors of every kind, summed."""
        return sum(self.errors.values())


def device_memory(device: torch.device) -> tuple[str, float]:
    """Return (what, MiB): torch's allocated memory on a CUDA device, else the process RSS."""
    if device.type == 'cuda':
        return 'cuda allocated', torch.cuda.memory_allocated(device) / 2**20
    try:
        with open('/proc/self/statm') as statm:
            return 'process RSS', int(statm.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20
    except (OSError, ValueError, IndexError):  # not Linux: the peak is what there is
        return 'process peak RSS', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


class DiagnosticsReporter:
    """Builds one status per call, comparing with the previous call for rates and levels."""

    def __init__(self, node_name: str, full_name: str, hardware_id: str) -> None:
        """Report for node ``node_name`` (``full_name`` with its namespace) on ``hardware_id``."""
        self.name, self.full_name = f'{node_name}: {STATUS_TASK}', full_name
        self.hardware_id = hardware_id
        self._previous: NodeCounters | None = None
        self._previous_s = 0.0

    def status(self, counters: NodeCounters, engine: ReconstructionEngine,
               now_s: float) -> DiagnosticStatus:
        """Return the status for ``counters`` and ``engine`` at monotonic time ``now_s``."""
        current = counters.snapshot()
        previous = self._previous or NodeCounters()
        elapsed = now_s - self._previous_s if self._previous is not None else 0.0
        self._previous, self._previous_s = current, now_s

        def rate(name: str) -> float:
            change = getattr(current, name) - getattr(previous, name)
            return change / elapsed if elapsed > 0 else 0.0

        buffer = engine.buffer_status()
        span = buffer.span
        memory_kind, memory_mib = device_memory(engine.device)
        values = {
            'node': self.full_name,
            'keyframes in buffer': buffer.keyframes,
            'buffer span (s)': f'{(span[1] - span[0]) / 1e9:.3f}' if span else '0.000',
            'buffer bytes': buffer.nbytes,
            'keyframe rate achieved (Hz)': f'{rate("keyframes"):.2f}',
            'publish rate achieved (Hz)': f'{rate("outputs"):.2f}',
            'last keyframe latency (ms)': f'{current.last_keyframe_ms:.1f}',
            'last query latency (ms)': f'{current.last_query_ms:.1f}',
            'queue drops': current.queue_drops,
            'superseded frames': current.superseded,
            'buffer resets': current.buffer_resets,
            'skipped outputs': current.skipped_outputs,
            **{f'errors: {kind}': count for kind, count in current.errors.items()},
            f'device memory (MiB, {memory_kind})': f'{memory_mib:.1f}',
        }
        new = {kind: count - previous.errors[kind] for kind, count in current.errors.items()
               if count > previous.errors[kind]}
        level, message = DiagnosticStatus.OK, 'ok'
        if new:
            level = DiagnosticStatus.WARN
            message = f'{sum(new.values())} new errors: ' + ', '.join(
                f'{kind} {count}' for kind, count in new.items())
        return DiagnosticStatus(level=level, name=self.name, message=message,
                                hardware_id=self.hardware_id,
                                values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
