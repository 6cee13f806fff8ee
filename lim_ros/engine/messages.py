"""
One reconstruction → the CDR bytes of the node's three outputs, with `lim_ros.wire`.

Convention: geometry is in the volume frame (metres) and goes out unchanged with
``header.frame_id = volume_frame`` and ``header.stamp`` the reconstruction's stamp (ns).
Colours, the decoder's albedo in [0, 1], become uint8 RGB (rounded).
"""

from typing import NamedTuple

from lim_ros.engine import Reconstruction
from lim_ros.wire import indexed_mesh_cdr, point_cloud_cdr, triangle_marker_cdr
from lim_ros.wire.arrays import colour_bytes as rgb_bytes
import numpy as np
import torch

MARKER_NS = 'lim_ros'  # visualization_msgs/Marker namespace of the mesh (as the node)
MARKER_ID = 0


class OutputMessages(NamedTuple):
    """Serialised messages of one output stamp."""

    points: bytes  # sensor_msgs/PointCloud2 (x, y, z, rgb)
    marker: bytes  # visualization_msgs/Marker TRIANGLE_LIST with per-vertex colours
    mesh: bytes  # lim_ros_msgs/msg/IndexedMesh


def colour_bytes(colours: torch.Tensor | None) -> np.ndarray | None:
    """
    Return colours (N, 3) in [0, 1] as uint8 (N, 3) RGB, rounded; None stays None.

    :raises ShapeError: for a wrong shape, or values outside [0, 1] or NaN (never clamped).
    """
    if colours is None:
        return None
    return rgb_bytes(colours.detach().cpu().float().numpy(), colours.shape[0])


def points_message(reconstruction: Reconstruction, frame_id: str) -> bytes:
    """Serialise the surface points as ``~/points`` (sensor_msgs/PointCloud2, x y z rgb)."""
    cloud = reconstruction.points
    return point_cloud_cdr(cloud.points.detach().cpu().numpy(), colour_bytes(cloud.colours),
                           reconstruction.stamp_ns, frame_id)


def _mesh_arrays(
    reconstruction: Reconstruction,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    mesh = reconstruction.mesh
    return (mesh.vertices.detach().cpu().numpy(), mesh.faces.detach().cpu().numpy(),
            colour_bytes(mesh.vertex_colours))


def marker_message(reconstruction: Reconstruction, frame_id: str) -> bytes:
    """Serialise the mesh as ``~/mesh_marker`` (visualization_msgs/Marker TRIANGLE_LIST)."""
    return triangle_marker_cdr(*_mesh_arrays(reconstruction), reconstruction.stamp_ns, frame_id,
                               MARKER_NS, MARKER_ID)


def mesh_message(reconstruction: Reconstruction, frame_id: str) -> bytes:
    """Serialise the mesh as ``~/mesh`` (lim_ros_msgs/msg/IndexedMesh)."""
    return indexed_mesh_cdr(*_mesh_arrays(reconstruction), reconstruction.stamp_ns, frame_id)


def output_messages(reconstruction: Reconstruction, frame_id: str) -> OutputMessages:
    """
    Serialise ``reconstruction`` as the node's ``~/points``, ``~/mesh_marker`` and ``~/mesh``.

    :raises ShapeError: if the geometry is not finite (see `lim_ros.wire`).
    """
    return OutputMessages(points=points_message(reconstruction, frame_id),
                          marker=marker_message(reconstruction, frame_id),
                          mesh=mesh_message(reconstruction, frame_id))
