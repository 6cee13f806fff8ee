"""
ROS 2 messages as CDR bytes composed with NumPy: no rclpy, no message packages.

Large geometry (point clouds, meshes) is serialised straight from flat arrays into the bytes
rmw and rosbag2 carry, so the node publishes them raw (``Publisher.publish(bytes)``), a bag
tool writes them as they are, and ``rclpy.serialization.deserialize_message`` turns them into
message objects where one is needed. Images go the other way: their fields become RGB arrays.
See :mod:`lim_ros.wire.cdr` for the wire format.
"""

from lim_ros.wire.image import decode_compressed, decode_image, encode_image_cdr
from lim_ros.wire.indexed_mesh import indexed_mesh_cdr, parse_indexed_mesh_cdr, ParsedIndexedMesh
from lim_ros.wire.marker import triangle_marker_cdr
from lim_ros.wire.point_cloud import parse_point_cloud_cdr, ParsedPointCloud, point_cloud_cdr
from lim_ros.wire.time import ns_to_stamp, stamp_to_ns

__all__ = [
    'decode_compressed',
    'decode_image',
    'encode_image_cdr',
    'indexed_mesh_cdr',
    'ns_to_stamp',
    'parse_indexed_mesh_cdr',
    'parse_point_cloud_cdr',
    'ParsedIndexedMesh',
    'ParsedPointCloud',
    'point_cloud_cdr',
    'stamp_to_ns',
    'triangle_marker_cdr',
]
