"""
A reconstruction as the node's three outputs: CDR bytes from `lim_ros.wire`, published raw.

QoS (all RELIABLE, as RViz subscribes):

- ``~/points`` sensor_msgs/PointCloud2, KEEP_LAST 1, VOLATILE: a stream; each cloud
  supersedes the previous one, so a slow subscriber gets the newest and a late one waits one
  publish period rather than receiving a stale cloud.
- ``~/mesh_marker`` visualization_msgs/Marker (TRIANGLE_LIST, per-vertex colour) and
  ``~/mesh`` lim_ros_msgs/IndexedMesh, KEEP_LAST 1, TRANSIENT_LOCAL: the latest mesh is
  latched, so RViz or a planner started later gets it at once.
- ``~/tracked_mesh`` lim_ros_msgs/IndexedMesh (same vertex count and triangles for every
  message of a track, ``track_id`` set, no UVs) and ``~/tracked_mesh_marker`` (Marker
  TRIANGLE_LIST with the track's texture and ``uv_coordinates``), KEEP_LAST 1,
  TRANSIENT_LOCAL; ``~/tracked_mesh/anchor`` (IndexedMesh at the track's start, with UVs) and
  ``~/tracked_mesh/texture`` (sensor_msgs/Image rgb8), KEEP_LAST 1, TRANSIENT_LOCAL, published
  once per track: a late subscriber gets the current track's UVs and texture at once.

Every header has ``frame_id`` = the volume frame and ``stamp`` = the reconstruction's stamp.
"""

from lim_ros.engine import Reconstruction
from lim_ros.engine.messages import output_messages, TrackedSerializer
from lim_ros.geometry.tracking import TrackedMesh
from lim_ros_msgs.msg import IndexedMesh
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import Image, PointCloud2
from visualization_msgs.msg import Marker

POINTS_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                        reliability=ReliabilityPolicy.RELIABLE,
                        durability=DurabilityPolicy.VOLATILE)
LATCHED_QOS = QoSProfile(history=HistoryPolicy.KEEP_LAST, depth=1,
                         reliability=ReliabilityPolicy.RELIABLE,
                         durability=DurabilityPolicy.TRANSIENT_LOCAL)


class OutputPublishers:
    """The publishers of ``~/points``, ``~/mesh_marker`` and ``~/mesh``."""

    def __init__(self, node: Node) -> None:
        """Create the three publishers on ``node``."""
        self.points = node.create_publisher(PointCloud2, '~/points', POINTS_QOS)
        self.marker = node.create_publisher(Marker, '~/mesh_marker', LATCHED_QOS)
        self.mesh = node.create_publisher(IndexedMesh, '~/mesh', LATCHED_QOS)

    def publish(self, reconstruction: Reconstruction, frame_id: str) -> None:
        """Serialise everything first (a bad array publishes nothing), then publish."""
        blobs = output_messages(reconstruction, frame_id)
        for publisher, blob in ((self.points, blobs.points), (self.marker, blobs.marker),
                                (self.mesh, blobs.mesh)):
            publisher.publish(blob)


class TrackedPublishers:
    """The publishers of ``~/tracked_mesh`` and its marker, anchor and texture."""

    def __init__(self, node: Node) -> None:
        """Create the four latched publishers on ``node``."""
        self.mesh = node.create_publisher(IndexedMesh, '~/tracked_mesh', LATCHED_QOS)
        self.marker = node.create_publisher(Marker, '~/tracked_mesh_marker', LATCHED_QOS)
        self.anchor = node.create_publisher(IndexedMesh, '~/tracked_mesh/anchor', LATCHED_QOS)
        self.texture = node.create_publisher(Image, '~/tracked_mesh/texture', LATCHED_QOS)
        self._serialize = TrackedSerializer()

    def publish(self, tracked: TrackedMesh, frame_id: str) -> None:
        """Publish ``tracked``; the anchor and texture only when its track is new here."""
        blobs = self._serialize(tracked, frame_id)
        if blobs.anchor is not None:
            self.anchor.publish(blobs.anchor)
            self.texture.publish(blobs.texture)
        self.mesh.publish(blobs.mesh)
        self.marker.publish(blobs.marker)
