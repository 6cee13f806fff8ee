"""
A lim_node under test, fed by a probe node with synthetic camera images on real topics.

`scene()` renders one object of the synthetic world from the default rig (4 cameras, 64 px),
the rig `camera_poses` defaults to. `LimHarness` starts a `LimNode` in its own namespace,
spun by a MultiThreadedExecutor in a background thread; the probe node, spun by the test
thread, publishes sensor_msgs/Image and CameraInfo on the node's camera topics, listens to
its outputs and calls its service.
"""

from dataclasses import dataclass
import functools
import io
import threading
import time

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray
from lim_ros.cameras import rig
from lim_ros.render.sphere_tracer import render
from lim_ros.ros.lim_node import LimNode
from lim_ros.wire import ns_to_stamp, parse_indexed_mesh_cdr, parse_point_cloud_cdr
from lim_ros.world.families import make_object
from lim_ros_msgs.msg import IndexedMesh
from lim_ros_msgs.srv import QueryReconstruction
import numpy as np
import PIL.Image
import pytest
import rclpy
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from ros.ros_io import spin_until
from sensor_msgs.msg import CameraInfo, CompressedImage, Image, PointCloud2
import torch
from visualization_msgs.msg import Marker

SIZE = 64
CAMERAS = ('cam0', 'cam1', 'cam2', 'cam3')
# Small and quick: a few keyframes a second, coarse meshes, few points.
TEST_PARAMETERS = {'keyframe_rate': 5.0, 'publish_rate': 5.0, 'publish_lag': 0.5,
                   'mesh_resolution': 32, 'num_points': 2000, 'max_keyframes': 8,
                   'diagnostics_period': 0.5}
RELIABLE = QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE)
LATCHED = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE,
                     durability=DurabilityPolicy.TRANSIENT_LOCAL)
TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Scene:
    """Camera images of one object at t = 0 and its true surface."""

    images: np.ndarray  # (V, H, W, 3) uint8 RGB
    K: np.ndarray  # (V, 3, 3) pixels
    surface: torch.Tensor  # (N, 3) points on the object's surface, metres


@functools.cache
def scene() -> Scene:
    """Render the humanoid of seed 0 from ``rig(4, 64)`` (cached for the session)."""
    torch.set_num_threads(1)
    obj = make_object('humanoid', 0)
    cameras = rig(len(CAMERAS), SIZE)
    rgb = render(obj, cameras, 0.0).rgb  # (V, 3, H, W) in [0, 1]
    images = (rgb.clamp(0.0, 1.0) * 255.0).round().to(torch.uint8).permute(0, 2, 3, 1)
    surface = obj.surface_samples(0.0, 4000, torch.Generator().manual_seed(0)).points
    return Scene(images.contiguous().numpy(), cameras.K.numpy(), surface)


def stamp_msg(stamp_ns: int) -> Time:
    sec, nanosec = ns_to_stamp(stamp_ns)
    return Time(sec=sec, nanosec=nanosec)


def image_msg(rgb: np.ndarray, stamp_ns: int, camera: str, encoding: str = 'rgb8') -> Image:
    msg = Image(height=rgb.shape[0], width=rgb.shape[1], encoding=encoding, is_bigendian=0,
                step=rgb.shape[1] * 3)
    msg.header.stamp = stamp_msg(stamp_ns)
    msg.header.frame_id = f'{camera}_optical_frame'
    msg.data = rgb.tobytes()
    return msg


def compressed_msg(rgb: np.ndarray, stamp_ns: int, camera: str) -> CompressedImage:
    buffer = io.BytesIO()
    PIL.Image.fromarray(rgb).save(buffer, format='PNG')
    msg = CompressedImage(format='rgb8; png compressed rgb8', data=buffer.getvalue())
    msg.header.stamp = stamp_msg(stamp_ns)
    msg.header.frame_id = f'{camera}_optical_frame'
    return msg


def info_msg(K: np.ndarray, stamp_ns: int, camera: str, height: int = SIZE, width: int = SIZE,
             d: tuple[float, ...] = (0.0,) * 5) -> CameraInfo:
    msg = CameraInfo(height=height, width=width, distortion_model='plumb_bob', d=list(d),
                     k=[float(v) for v in K.reshape(-1)])
    msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
    msg.p = [float(K[0, 0]), 0.0, float(K[0, 2]), 0.0, 0.0, float(K[1, 1]), float(K[1, 2]), 0.0,
             0.0, 0.0, 1.0, 0.0]
    msg.header.stamp = stamp_msg(stamp_ns)
    msg.header.frame_id = f'{camera}_optical_frame'
    return msg


class LimHarness:
    """A LimNode in namespace ``/lim_test_<suffix>`` and a probe node talking to it."""

    def __init__(self, context, suffix: str, prime: bool = True, **parameters) -> None:
        """Start the nodes; with ``prime``, send CameraInfo and wait until the node has it."""
        torch.set_num_threads(1)
        self.namespace = f'/lim_test_{suffix}'
        values = {**TEST_PARAMETERS, **parameters}
        self.node = LimNode(namespace=self.namespace, context=context, parameter_overrides=[
            Parameter(name, value=value) for name, value in values.items()])
        self.executor = MultiThreadedExecutor(num_threads=3, context=context)
        self.executor.add_node(self.node)
        self._spinner = threading.Thread(target=self.executor.spin, daemon=True)
        self._spinner.start()

        self.probe = rclpy.create_node(f'probe_{suffix}', namespace=self.namespace,
                                       context=context)
        self.probe_executor = SingleThreadedExecutor(context=context)
        self.probe_executor.add_node(self.probe)
        self.compressed = values.get('image_transport') == 'compressed'
        self.cameras = tuple(values.get('cameras', CAMERAS))  # a prefix of CAMERAS
        kind, topic = (CompressedImage, 'image_raw/compressed') if self.compressed else (
            Image, 'image_raw')
        self.image_publishers = {c: self.probe.create_publisher(kind, f'{c}/{topic}', RELIABLE)
                                 for c in self.cameras}
        self.info_publishers = {c: self.probe.create_publisher(CameraInfo, f'{c}/camera_info',
                                                               RELIABLE) for c in self.cameras}
        self.clouds, self.meshes, self.markers, self.diagnostics = [], [], [], []
        self.tracked, self.tracked_markers = [], []
        node = f'{self.namespace}/lim_node'
        self.probe.create_subscription(
            PointCloud2, f'{node}/points',
            lambda blob: self.clouds.append(parse_point_cloud_cdr(blob)), RELIABLE, raw=True)
        self.probe.create_subscription(
            IndexedMesh, f'{node}/mesh',
            lambda blob: self.meshes.append(parse_indexed_mesh_cdr(blob)), LATCHED, raw=True)
        self.probe.create_subscription(Marker, f'{node}/mesh_marker', self.markers.append,
                                       LATCHED)
        self.probe.create_subscription(
            IndexedMesh, f'{node}/tracked_mesh',
            lambda blob: self.tracked.append(parse_indexed_mesh_cdr(blob)), LATCHED, raw=True)
        self.probe.create_subscription(Marker, f'{node}/tracked_mesh_marker',
                                       self.tracked_markers.append, LATCHED)
        self.probe.create_subscription(DiagnosticArray, '/diagnostics', self._on_diagnostics,
                                       RELIABLE)
        self.client = self.probe.create_client(QueryReconstruction, f'{node}/query')
        publishers = [*self.image_publishers.values(), *self.info_publishers.values()]
        self.spin_until(lambda: all(p.get_subscription_count() > 0 for p in publishers),
                        'the camera topics to match')
        if prime:  # images and CameraInfo travel on separate topics: no order between them
            self.send_info()
            self.spin_until(lambda: all(c.info is not None for c in self.node.camera_inputs),
                            'CameraInfo to arrive')

    def _on_diagnostics(self, message: DiagnosticArray) -> None:
        for status in message.status:
            values = {kv.key: kv.value for kv in status.values}
            if values.get('node') == self.node.get_fully_qualified_name():
                self.diagnostics.append((status, values))

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=10.0)
        self._spinner.join(10.0)
        # rclpy 7.1 (Jazzy): MultiThreadedExecutor.shutdown does not wait for the callbacks in
        # its thread pool, so wait here before the node's handles go.
        pool = getattr(self.executor, '_executor', None)
        if pool is not None:
            pool.shutdown(wait=True)
        self.node.destroy_node()
        self.probe_executor.shutdown()
        self.probe.destroy_node()

    def now_ns(self) -> int:
        return self.probe.get_clock().now().nanoseconds

    def spin_until(self, condition, what: str, timeout_s: float = TIMEOUT_S) -> None:
        spin_until(self.probe_executor, condition, what, timeout_s, period_s=0.02)

    def spin_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.probe_executor.spin_once(timeout_sec=0.02)

    def send_info(self, stamp_ns: int | None = None, cameras=None, **fields) -> None:
        stamp_ns = self.now_ns() if stamp_ns is None else stamp_ns
        for camera in cameras or self.cameras:
            i = CAMERAS.index(camera)
            self.info_publishers[camera].publish(info_msg(scene().K[i], stamp_ns, camera,
                                                          **fields))

    def send_images(self, stamp_ns: int | None = None, cameras=None) -> int:
        stamp_ns = self.now_ns() if stamp_ns is None else stamp_ns
        for camera in cameras or self.cameras:
            rgb = scene().images[CAMERAS.index(camera)]
            make = compressed_msg if self.compressed else image_msg
            self.image_publishers[camera].publish(make(rgb, stamp_ns, camera))
        return stamp_ns

    def send(self, stamp_ns: int | None = None) -> int:
        """Publish CameraInfo and an image for every camera at ``stamp_ns`` (default: now)."""
        stamp_ns = self.now_ns() if stamp_ns is None else stamp_ns
        self.send_info(stamp_ns)
        return self.send_images(stamp_ns)

    def feed(self, seconds: float, period: float = 0.2) -> list[int]:
        """Send a set every ``period`` s for ``seconds`` s, spinning meanwhile; return stamps."""
        stamps = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            stamps.append(self.send())
            self.spin_for(period)
        return stamps

    def feed_until(self, condition, what: str, period: float = 0.2,
                   timeout_s: float = TIMEOUT_S) -> list[int]:
        """Send a set every ``period`` s until ``condition()``; return the stamps sent."""
        stamps = []
        deadline = time.monotonic() + timeout_s
        while not condition():
            if time.monotonic() > deadline:
                pytest.fail(f'timed out after {timeout_s} s feeding images, waiting for {what}')
            stamps.append(self.send())
            self.spin_for(period)
        return stamps

    def query(self, stamp_ns: int, num_points: int = 0,
              mesh_resolution: int = 0) -> QueryReconstruction.Response:
        self.spin_until(lambda: self.client.service_is_ready(), 'the query service')
        future = self.client.call_async(QueryReconstruction.Request(
            stamp=stamp_msg(stamp_ns), num_points=num_points, mesh_resolution=mesh_resolution))
        self.spin_until(future.done, 'the query response')
        return future.result()
