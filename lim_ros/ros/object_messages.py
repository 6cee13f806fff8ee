"""
Baseline for ``lim-ros bench node``: a Marker built from rclpy message objects, then serialised.

This is how a node written with the message classes alone builds a TRIANGLE_LIST: one
``Point`` and one ``ColorRGBA`` object per listed vertex. The node itself writes the same
bytes with `lim_ros.wire.marker.triangle_marker_cdr`; the benchmark times both.
"""

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Point
from lim_ros.engine.messages import MARKER_NS
import numpy as np
from rclpy.serialization import serialize_message
from std_msgs.msg import ColorRGBA
from visualization_msgs.msg import Marker


def marker_from_objects(vertices: np.ndarray, faces: np.ndarray, colours: np.ndarray,
                        stamp_ns: int, frame_id: str) -> bytes:
    """Return the serialised Marker of vertices (V, 3) m, faces (F, 3), colours (V, 3) 0..1."""
    marker = Marker(type=Marker.TRIANGLE_LIST, action=Marker.ADD, ns=MARKER_NS)
    marker.header.frame_id = frame_id
    marker.header.stamp = Time(sec=stamp_ns // 10**9, nanosec=stamp_ns % 10**9)
    marker.pose.orientation.w = 1.0
    marker.scale.x = marker.scale.y = marker.scale.z = 1.0
    marker.color.r = marker.color.g = marker.color.b = marker.color.a = 1.0
    listed = faces.reshape(-1)
    marker.points = [Point(x=float(x), y=float(y), z=float(z)) for x, y, z in vertices[listed]]
    marker.colors = [ColorRGBA(r=float(r), g=float(g), b=float(b), a=1.0)
                     for r, g, b in colours[listed]]
    return serialize_message(marker)
