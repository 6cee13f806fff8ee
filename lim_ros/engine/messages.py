"""
One reconstruction → the CDR bytes of the node's outputs, with `lim_ros.wire`.

Convention: geometry is in the volume frame (metres) and goes out unchanged with
``header.frame_id = volume_frame`` and ``header.stamp`` the reconstruction's stamp (ns).
Colours, the decoder's albedo in [0, 1], become uint8 RGB (rounded).

Tracked meshes (`tracked_messages`): every stamp gives ``~/tracked_mesh`` (IndexedMesh:
vertices, the track's triangles and ``track_id``, no UVs) and ``~/tracked_mesh_marker``
(Marker TRIANGLE_LIST with the track's PNG texture and ``uv_coordinates``: RViz needs them in
every marker); the first stamp of a track also gives ``~/tracked_mesh/anchor`` (IndexedMesh at
the anchor stamp with the UVs, v up) and ``~/tracked_mesh/texture`` (sensor_msgs/Image rgb8,
stamped with the anchor stamp, row 0 at the top), both meant to be latched.
"""

from typing import NamedTuple

from lim_ros.engine import Reconstruction
from lim_ros.geometry.tracking import TrackedMesh
from lim_ros.wire import encode_image_cdr, indexed_mesh_cdr, point_cloud_cdr, triangle_marker_cdr
from lim_ros.wire.arrays import colour_bytes as rgb_bytes
import numpy as np
import torch

MARKER_NS = 'lim_ros'  # visualization_msgs/Marker namespace of the mesh (as the node)
MARKER_ID = 0
TRACK_MARKER_NS = 'lim_ros_track'  # namespace of the tracked mesh's marker


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


class TrackedMessages(NamedTuple):
    """Serialised tracked-mesh messages of one output stamp."""

    mesh: bytes  # lim_ros_msgs/msg/IndexedMesh, vertices at the stamp, no UVs
    marker: bytes  # visualization_msgs/Marker TRIANGLE_LIST, textured
    anchor: bytes | None  # IndexedMesh at the anchor with UVs; None unless new_track
    texture: bytes | None  # sensor_msgs/Image rgb8; None unless new_track


def tracked_messages(tracked: TrackedMesh, frame_id: str, new_track: bool) -> TrackedMessages:
    """
    Serialise ``tracked`` (see the module docstring); with ``new_track`` the anchor ones too.

    :raises ShapeError: if the geometry is not finite (see `lim_ros.wire`).
    """
    vertices = tracked.vertices.detach().cpu().numpy()
    faces = tracked.faces.cpu().numpy()
    uvs = tracked.uvs.cpu().numpy()
    track_id = tracked.anchor.track_id
    ogre_uv = np.stack([uvs[:, 0], 1.0 - uvs[:, 1]], axis=-1)  # Ogre: v = 0 at the image top
    marker = triangle_marker_cdr(vertices, faces, None, tracked.stamp_ns, frame_id,
                                 TRACK_MARKER_NS, MARKER_ID, uv=ogre_uv,
                                 texture=('png', tracked.anchor.texture_png))
    mesh = indexed_mesh_cdr(vertices, faces, None, tracked.stamp_ns, frame_id,
                            track_id=track_id)
    anchor = texture = None
    if new_track:
        anchor = indexed_mesh_cdr(tracked.anchor.vertices.numpy(), faces, None,
                                  tracked.anchor.stamp_ns, frame_id, uv=uvs, track_id=track_id)
        texture = encode_image_cdr(tracked.anchor.texture, tracked.anchor.stamp_ns, frame_id)
    return TrackedMessages(mesh, marker, anchor, texture)


class TrackedSerializer:
    """Serialise successive tracked meshes for one output: anchor and texture once per track."""

    def __init__(self) -> None:
        """Start with no track seen."""
        self._track_id: int | None = None  # the track whose anchor was serialised last

    def __call__(self, tracked: TrackedMesh, frame_id: str) -> TrackedMessages:
        """
        Serialise ``tracked``; ``anchor`` and ``texture`` are set when its track is new here.

        :raises ShapeError: if the geometry is not finite (nothing is remembered then).
        """
        new_track = tracked.anchor.track_id != self._track_id
        messages = tracked_messages(tracked, frame_id, new_track)
        self._track_id = tracked.anchor.track_id
        return messages
