"""
lim_node: camera streams in; points and meshes at any stamp inside a rolling buffer out.

Wiring only; the work is `lim_ros.engine.ReconstructionEngine`'s. Per camera ``c``:
``c/image_raw`` (or ``c/image_raw/compressed``) and ``c/camera_info`` in; synchronised sets
go through a latest-only slot to a keyframe thread (`keyframe_worker`). A timer at
``publish_rate`` publishes the reconstruction at ``now - publish_lag`` on ``~/points``,
``~/mesh_marker`` and ``~/mesh`` (`outputs`); ``~/query`` answers for any stamp in the
buffer; with ``tracking``, the same timer moves the current track's mesh to the stamp and
publishes ``~/tracked_mesh`` and its marker, anchor and texture; ``/diagnostics`` reports
every ``diagnostics_period`` (`diagnostics`). Bad input is logged (throttled per kind and
topic), counted in ``counters`` and dropped; the node goes on.

Run: ``ros2 run lim_ros lim_node --ros-args --params-file config/lim.yaml`` (or
``python -m lim_ros.ros.lim_node``). A bad parameter stops it at start-up with exit code 2.
"""

import sys
import time
import traceback

from diagnostic_msgs.msg import DiagnosticArray
from lim_ros.engine import ReconstructionEngine
from lim_ros.engine.messages import mesh_message, points_message
from lim_ros.engine.tracking import MeshTracker
from lim_ros.errors import ConfigError, LimError, StampError
from lim_ros.ros import parameters
from lim_ros.ros.camera_input import CameraInput
from lim_ros.ros.diagnostics import DiagnosticsReporter, NodeCounters
from lim_ros.ros.outputs import OutputPublishers, TrackedPublishers
from lim_ros.ros.tf_poses import PoseError, TfPoses
from lim_ros.stream.keyframe_worker import KeyframeWorker
from lim_ros.stream.synchronizer import (
    CameraFrame,
    FrameSynchronizer,
    keyframe_inputs,
    SyncedFrames,
)
from lim_ros.wire import stamp_to_ns
from lim_ros_msgs.msg import IndexedMesh
from lim_ros_msgs.srv import QueryReconstruction
from rcl_interfaces.msg import SetParametersResult
import rclpy
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import ExternalShutdownException, MultiThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import qos_profile_sensor_data, QoSProfile, ReliabilityPolicy
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import PointCloud2
import torch

LOG_EVERY_S = 5.0  # the same kind of error from the same topic is logged at most this often
RELIABLE_CAMERA_QOS = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)


class LimNode(Node):
    """The reconstruction node; see the module docstring."""

    def __init__(self, node_name: str = 'lim_node', **kwargs) -> None:
        """
        Declare the parameters, load the engine, and create topics, timers and the service.

        ``kwargs`` go to `rclpy.node.Node` (namespace, context, parameter_overrides, ...).

        :raises ConfigError: (logged first) for an invalid parameter; also CheckpointError
            when the LRM cannot be loaded. The node is destroyed before raising.
        """
        super().__init__(node_name, **kwargs)
        self.counters = NodeCounters()
        self._worker: KeyframeWorker[SyncedFrames] | None = None
        self._last_logged: dict[tuple[str, str], float] = {}
        self._last_published: int | None = None
        self._closing = False
        try:
            self._start()
        except LimError as e:
            self.get_logger().fatal(f'refusing to start: {e}')
            self.destroy_node()
            raise

    def _start(self) -> None:
        self.settings = parameters.declare(self)
        stream, ros = self.settings.stream, self.settings.ros
        self.engine = ReconstructionEngine(self.settings.engine)
        self._fixed_poses = stream.poses()
        self._tf = TfPoses(self) if ros.pose_source == 'tf' else None
        self._sync = FrameSynchronizer(stream.cameras, stream.sync_tolerance_ns,
                                       stream.keyframe_interval_ns)
        self._outputs = OutputPublishers(self)
        self._tracker = self._tracked = None
        if self.settings.tracking.tracking:
            self._tracker = MeshTracker(self.engine, self.settings.tracking)
            self._tracked = TrackedPublishers(self)
        self._worker = KeyframeWorker(self._on_synced)
        qos = qos_profile_sensor_data if ros.camera_qos == 'sensor_data' else RELIABLE_CAMERA_QOS
        camera_group = MutuallyExclusiveCallbackGroup()  # one at a time: they share _sync
        self.camera_inputs = [
            CameraInput(self, name, ros.image_transport == 'compressed', qos, camera_group,
                        self._on_frame, self._on_error)
            for name in stream.cameras]
        self.create_timer(1.0 / stream.publish_rate, self._on_publish,
                          callback_group=MutuallyExclusiveCallbackGroup())
        self.create_service(QueryReconstruction, '~/query', self._on_query,
                            callback_group=MutuallyExclusiveCallbackGroup())
        self._diagnostics = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self._reporter = DiagnosticsReporter(self.get_name(), self.get_fully_qualified_name(),
                                             str(self.engine.device))
        self.create_timer(ros.diagnostics_period, self._on_diagnostics,
                          callback_group=MutuallyExclusiveCallbackGroup())
        self.add_on_set_parameters_callback(self._check_parameters)
        self.add_post_set_parameters_callback(self._apply_parameters)
        topics = ', '.join(c.image_topic for c in self.camera_inputs)
        engine = self.engine.config
        mode = (f' (monocular, {engine.monocular_views} views)'
                if engine.input_mode == 'monocular' else '')
        self.get_logger().info(
            f'reconstructing {topics}{mode} on {self.engine.device} into {stream.volume_frame}: '
            f'keyframes at {stream.keyframe_rate} Hz (buffer {self.engine.config.max_keyframes}),'
            f' outputs at {stream.publish_rate} Hz, {stream.publish_lag} s behind the clock')

    def destroy_node(self) -> None:
        """Stop the keyframe thread, then destroy the node."""
        self._closing = True  # callbacks still running fail on destroyed handles: not errors
        if self._worker is not None:
            self._worker.stop()
        super().destroy_node()

    # Errors ------------------------------------------------------------------------------

    def _on_error(self, kind: str, where: str, error: Exception) -> None:
        """Count ``error`` as ``kind`` and log it, throttled per (kind, where)."""
        if self._closing:
            return
        self.counters.error(kind)
        now, last = time.monotonic(), self._last_logged.get((kind, where))
        if last is not None and now - last < LOG_EVERY_S:
            return
        self._last_logged[(kind, where)] = now
        if kind == 'internal':
            trace = ''.join(traceback.format_exception(error))
            self.get_logger().error(f'{where}: unexpected error (a bug?):\n{trace}')
        else:
            self.get_logger().warning(f'{where}: {kind}: {error}')

    # Cameras → keyframes -----------------------------------------------------------------

    def _on_frame(self, camera: str, frame: CameraFrame) -> None:
        """Offer a decoded frame to the synchroniser; queue a completed set (latest only)."""
        try:
            synced = self._sync.offer(camera, frame)
        except StampError as e:  # the camera repeated its previous stamp
            self._on_error('stamp', camera, e)
            return
        except Exception as e:  # otherwise offer refuses only unknown cameras: a bug here
            self._on_error('internal', camera, e)
            return
        self.counters.assign(superseded=self._sync.superseded)
        if synced is not None and self._worker is not None and self._worker.submit(synced):
            self.counters.add(queue_drops=1)

    def _camera_poses(self, synced: SyncedFrames) -> torch.Tensor:
        if self._tf is None:
            return self._fixed_poses
        volume_frame = self.settings.stream.volume_frame
        return torch.stack([self._tf.pose(volume_frame, camera.frame_id, frame.stamp_ns)
                            for camera, frame in zip(self.camera_inputs, synced.frames)])

    def _on_synced(self, synced: SyncedFrames, queued_at: float) -> None:
        """Add one synchronised set to the buffer (keyframe thread)."""
        where = f'keyframe at {synced.stamp_ns} ns'
        try:
            images, cameras = keyframe_inputs(synced, self.settings.stream.cameras,
                                              self._camera_poses(synced))
            insertion = self.engine.add_keyframe(synced.stamp_ns, images, cameras)
        except Exception as e:  # a bug is counted as internal and logged; the thread lives
            self._on_error(keyframe_error_kind(e), where, e)
            return
        self.counters.add(keyframes=1)
        self.counters.assign(last_keyframe_ms=1e3 * (time.monotonic() - queued_at))
        if insertion.reset:
            self.counters.add(buffer_resets=1)
            self.get_logger().warning(
                f'stamps went back in time (to {synced.stamp_ns} ns): the keyframe buffer '
                'started again (a bag restarted, or the clock was reset?)')

    # Outputs -----------------------------------------------------------------------------

    def _on_publish(self) -> None:
        """Publish the reconstruction at ``now - publish_lag``, if it lies in the buffer."""
        settings = self.settings
        try:
            lag_ns = int(round(settings.stream.publish_lag * 1e9))
            stamp = self.engine.resolve(self.get_clock().now().nanoseconds - lag_ns)
            if stamp == self._last_published:
                return
            reconstruction = self.engine.reconstruction(
                stamp, settings.engine.num_points, settings.engine.mesh_resolution)
            self._outputs.publish(reconstruction, settings.stream.volume_frame)
        except StampError as e:  # now - lag is not (yet, or no longer) inside the buffer
            self.counters.add(skipped_outputs=1)
            self.get_logger().info(f'no output: {e}', throttle_duration_sec=10.0)
            return
        except LimError as e:  # e.g. the reconstruction has no surface
            self.counters.add(skipped_outputs=1)
            self.get_logger().warning(f'no output: {e}', throttle_duration_sec=10.0)
            return
        except Exception as e:
            self._on_error('internal', 'publish timer', e)
            return
        self._last_published = reconstruction.stamp_ns
        self.counters.add(outputs=1)
        if self._tracker is not None and self._tracked is not None:  # tracking: both set
            self._publish_tracked(self._tracker, self._tracked, reconstruction.stamp_ns)

    def _publish_tracked(self, tracker: MeshTracker, publishers: TrackedPublishers,
                         stamp: int) -> None:
        """Move the current track to ``stamp`` and publish it; count a failure."""
        try:
            tracked = tracker.tracked_mesh(stamp, self.settings.engine.mesh_resolution)
            publishers.publish(tracked, self.settings.stream.volume_frame)
        except StampError as e:  # the stamp left the buffer since the untracked outputs
            self.counters.add(skipped_outputs=1)
            self.get_logger().info(f'no tracked mesh: {e}', throttle_duration_sec=10.0)
        except LimError as e:
            self._on_error('tracking', '~/tracked_mesh', e)
        except Exception as e:
            self._on_error('internal', '~/tracked_mesh', e)

    def _on_query(self, request: QueryReconstruction.Request,
                  response: QueryReconstruction.Response) -> QueryReconstruction.Response:
        """Answer with points and mesh at ``request.stamp``; success false, and why, if not."""
        start = time.perf_counter()
        stamp = None
        try:
            stamp = stamp_to_ns(request.stamp.sec, request.stamp.nanosec)
            count = request.num_points or self.settings.engine.num_points
            resolution = request.mesh_resolution or self.settings.engine.mesh_resolution
            check_query(count, resolution)
            reconstruction = self.engine.reconstruction(stamp, count, resolution)
            frame = self.settings.stream.volume_frame
            response.points = deserialize_message(points_message(reconstruction, frame),
                                                  PointCloud2)
            response.mesh = deserialize_message(mesh_message(reconstruction, frame), IndexedMesh)
            response.success = True
            response.message = (f'reconstructed at {reconstruction.stamp_ns} ns: '
                                f'{len(reconstruction.points.points)} points, '
                                f'{reconstruction.mesh.num_faces} triangles')
        except StampError as e:  # a stamp that is no time at all is a bad request
            response = self._refuse('bad_request' if stamp is None else 'query_outside', e)
        except LimError as e:
            response = self._refuse('bad_request', e)
        except Exception as e:
            response = self._refuse('internal', e)
        self.counters.add(queries=1)
        self.counters.assign(last_query_ms=1e3 * (time.perf_counter() - start))
        return response

    def _refuse(self, kind: str, error: Exception) -> QueryReconstruction.Response:
        self._on_error(kind, '~/query', error)
        return QueryReconstruction.Response(success=False, message=str(error))

    def _on_diagnostics(self) -> None:
        try:
            message = DiagnosticArray(status=[self._reporter.status(
                self.counters, self.engine, time.monotonic())])
            message.header.stamp = self.get_clock().now().to_msg()
            self._diagnostics.publish(message)
        except Exception as e:
            self._on_error('internal', '/diagnostics', e)

    # Parameters --------------------------------------------------------------------------

    def _dynamic_changes(self, changed: list[Parameter]) -> dict[str, object]:
        return {p.name: p.value for p in changed if p.name in parameters.DYNAMIC}

    def _check_parameters(self, changed: list[Parameter]) -> SetParametersResult:
        """Refuse a change the config dataclasses refuse (read-only ones rclpy refuses)."""
        try:
            parameters.updated(self.settings, self._dynamic_changes(changed))
        except ConfigError as e:
            return SetParametersResult(successful=False, reason=str(e))
        return SetParametersResult(successful=True)

    def _apply_parameters(self, changed: list[Parameter]) -> None:
        changes = self._dynamic_changes(changed)
        if changes:
            self.settings = parameters.updated(self.settings, changes)
            self.get_logger().info(f'parameters changed: {changes}')


def keyframe_error_kind(error: Exception) -> str:
    """Return the counter of an error raised while adding a keyframe."""
    for cls, kind in ((PoseError, 'bad_pose'), (StampError, 'stamp'), (LimError, 'bad_shape')):
        if isinstance(error, cls):
            return kind
    return 'internal'


def check_query(count: int, resolution: int) -> None:
    """Raise ConfigError unless a query's point count and mesh resolution are within bounds."""
    if not 1 <= count <= parameters.MAX_NUM_POINTS:
        raise ConfigError(f'num_points: expected 1..{parameters.MAX_NUM_POINTS} (0: the '
                          f'parameter), got {count}')
    if not 8 <= resolution <= parameters.MAX_MESH_RESOLUTION:
        raise ConfigError(f'mesh_resolution: expected 8..{parameters.MAX_MESH_RESOLUTION} (0: '
                          f'the parameter), got {resolution}')


def main(args: list[str] | None = None) -> int:
    """Run lim_node until Ctrl-C or shutdown; return 2 if it refuses to start."""
    rclpy.init(args=args)
    node = None
    try:
        node = LimNode()
        executor = MultiThreadedExecutor(num_threads=4)
        executor.add_node(node)
        executor.spin()
    except LimError as e:  # only the constructor raises: callbacks keep their errors
        print(f'lim_node: refusing to start: {e}', file=sys.stderr)
        return 2
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except rclpy_implementation.RCLError:
        if rclpy.ok():  # Ctrl-C shuts the context down; a spin then in progress raises this
            raise
    finally:
        if node is not None:
            node.destroy_node()
        rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
