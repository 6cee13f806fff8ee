"""
lim_ros_msgs/msg/IndexedMesh, the planners' mesh, serialised straight from NumPy.

The message is flat arrays after a std_msgs/Header: ``float32[] vertices`` (N x 3, metres in
``frame_id``), ``uint32[] triangles`` (F x 3, counter-clockwise seen from outside),
``uint8[] vertex_colors`` (N x 3 RGB, or empty), ``float32[] uv`` (N x 2, or empty) and
``uint32 track_id`` (0 when not tracked), all row-major.
"""

from typing import NamedTuple

from lim_ros.errors import ShapeError
from lim_ros.wire.arrays import byte_colours, face_indices, real_rows
from lim_ros.wire.cdr import CdrReader, CdrWriter, check_int
import numpy as np


class ParsedIndexedMesh(NamedTuple):
    """An IndexedMesh read back from its CDR bytes."""

    stamp_ns: int
    frame_id: str
    vertices: np.ndarray  # (N, 3) float32, metres
    faces: np.ndarray  # (F, 3) int64, indices in [0, N)
    colours: np.ndarray | None  # (N, 3) uint8 RGB, or None when the message has none
    uv: np.ndarray | None  # (N, 2) float32, or None when the message has none
    track_id: int


def indexed_mesh_cdr(vertices: np.ndarray, faces: np.ndarray, colours: np.ndarray | None,
                     stamp_ns: int, frame_id: str, uv: np.ndarray | None = None,
                     track_id: int = 0) -> bytes:
    """
    Serialise a lim_ros_msgs/msg/IndexedMesh.

    :param vertices: (N, 3) real, metres in ``frame_id``; finite (cast to float32).
    :param faces: (F, 3) integer indices into ``vertices``; F may be 0.
    :param colours: (N, 3) uint8 RGB, or None.
    :param stamp_ns: header stamp, ROS time in integer nanoseconds.
    :param uv: (N, 2) finite texture coordinates, or None.
    :param track_id: uint32 id of the mesh track; 0 when not tracked.
    :return: the CDR bytes, encapsulation header included.
    :raises ShapeError: naming the argument, for wrong shapes, dtypes or values.
    """
    vertices = real_rows('vertices', vertices, None, 3, np.float32)
    num_vertices = vertices.shape[0]
    faces = face_indices(faces, num_vertices)
    colours = np.empty((0, 3), np.uint8) if colours is None else byte_colours(
        colours, num_vertices)
    uv = np.empty((0, 2), np.float32) if uv is None else real_rows(
        'uv', uv, num_vertices, 2, np.float32)
    track_id = check_int('track_id', track_id, 'uint32')

    writer = CdrWriter()
    writer.header(stamp_ns, frame_id)
    writer.sequence(vertices.reshape(-1), np.float32)
    writer.sequence(faces.reshape(-1), np.uint32)
    writer.sequence(colours.reshape(-1), np.uint8)
    writer.sequence(uv.reshape(-1), np.float32)
    writer.uint32(track_id)
    return writer.bytes()


def _rows(name: str, flat: np.ndarray, width: int, num_rows: int | None) -> np.ndarray:
    """Reshape ``flat`` to (num_rows, width); raise ShapeError naming the field if it cannot."""
    rows = flat.size // width
    if flat.size % width or (num_rows is not None and rows != num_rows):
        expected = f'{num_rows} x {width}' if num_rows is not None else f'a multiple of {width}'
        raise ShapeError(f'{name}: expected {expected} values, got {flat.size}')
    return flat.reshape(rows, width)


def parse_indexed_mesh_cdr(blob: bytes | memoryview) -> ParsedIndexedMesh:
    """
    Read an IndexedMesh; arrays are copies, so the blob may be released.

    :raises ShapeError: when the blob is truncated, an array length is inconsistent with the
        vertex count, or a triangle indexes a missing vertex.
    """
    reader = CdrReader(blob)
    stamp_ns, frame_id = reader.header()
    vertices = _rows('vertices', reader.sequence(np.float32), 3, None)
    num_vertices = vertices.shape[0]
    faces = face_indices(_rows('triangles', reader.sequence(np.uint32), 3, None), num_vertices)
    colours = reader.sequence(np.uint8)
    uv = reader.sequence(np.float32)
    return ParsedIndexedMesh(
        stamp_ns=stamp_ns,
        frame_id=frame_id,
        vertices=vertices.copy(),
        faces=faces,
        colours=_rows('vertex_colors', colours, 3, num_vertices).copy() if colours.size else None,
        uv=_rows('uv', uv, 2, num_vertices).copy() if uv.size else None,
        track_id=reader.uint32(),
    )
