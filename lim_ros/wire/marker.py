"""
visualization_msgs/Marker TRIANGLE_LIST of a mesh, serialised straight from NumPy.

Convention: the fields are those of ROS 2 Jazzy's Marker (with texture, uv_coordinates and
mesh_file). A triangle list repeats each face's corners: point ``3 f + k`` is
``vertices[faces[f, k]]`` (float64, metres in ``frame_id``), in the faces' winding order;
RViz shades with the flat normal ``(b - a) x (c - a)``. Pose is the identity, scale 1, and
the marker lives until replaced (lifetime 0).

Colour: RViz draws ``colors[i].a * color.a`` and blends only when a per-point alpha (with
per-point colours) or the marker's alpha (without) is below 1. So ``alpha`` goes into every
per-point colour when colours are given, under an opaque white marker colour, and into the
white marker colour otherwise.

Texture (RViz's TriangleListMarker since Humble): ``texture_resource = 'embedded://texture'``
makes RViz load the image in ``texture``, decoded by Ogre with ``texture.format`` as the
codec name (``'png'``, ``'jpeg'`` or ``'jpg'``), and map it with ``uv_coordinates``, one per
point. Ogre's texture coordinates put (0, 0) at the top-left of the image, v pointing down.
"""

from lim_ros.errors import ShapeError
from lim_ros.wire.arrays import face_indices, real_rows, unit_colours
from lim_ros.wire.cdr import CdrWriter, check_int
import numpy as np

TRIANGLE_LIST = 11  # visualization_msgs/Marker.TRIANGLE_LIST
ADD = 0  # visualization_msgs/Marker.ADD
EMBEDDED_TEXTURE = 'embedded://texture'
TEXTURE_FORMATS = ('png', 'jpeg', 'jpg')
IDENTITY_POSE = (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0)  # position x y z, orientation x y z w


def _check_alpha(alpha: object) -> float:
    """Return ``alpha`` as a float in [0, 1]; raise ShapeError otherwise."""
    if (isinstance(alpha, bool) or not isinstance(alpha, (int, float, np.floating))
            or not 0.0 <= alpha <= 1.0):
        raise ShapeError(f'alpha: expected a number in [0, 1], got {alpha!r}')
    return float(alpha)


def _check_texture(texture: object) -> tuple[str, np.ndarray]:
    """Return ``(format, data as uint8)`` from a ``(format, encoded image bytes)`` pair."""
    if not (isinstance(texture, tuple) and len(texture) == 2
            and isinstance(texture[0], str)):
        raise ShapeError(f'texture: expected a (format, bytes) tuple, got {type(texture)}')
    image_format, data = texture
    if image_format not in TEXTURE_FORMATS:
        raise ShapeError(f'texture: expected format one of {TEXTURE_FORMATS}, '
                         f'got {image_format!r}')
    try:
        array = data if isinstance(data, np.ndarray) else np.frombuffer(data, np.uint8)
    except TypeError as error:
        raise ShapeError(f'texture: expected encoded image bytes, got {type(data)}') from error
    if array.dtype != np.uint8 or array.ndim != 1 or array.size == 0:
        raise ShapeError(f'texture: expected non-empty encoded image bytes, got a '
                         f'{array.dtype} array of shape {array.shape}')
    return image_format, array


def triangle_marker_cdr(vertices: np.ndarray, faces: np.ndarray,
                        colours: np.ndarray | None, stamp_ns: int, frame_id: str, ns: str,
                        marker_id: int, alpha: float = 1.0, uv: np.ndarray | None = None,
                        texture: tuple[str, bytes] | None = None) -> bytes:
    """
    Serialise a visualization_msgs/Marker (TRIANGLE_LIST, ADD) of an indexed mesh.

    :param vertices: (V, 3) real, metres in ``frame_id``; finite.
    :param faces: (F, 3) integer indices into ``vertices``, F >= 1 (RViz rejects an empty
        list: send a DELETE instead).
    :param colours: (V, 3) per-vertex RGB, uint8 or float in [0, 1]; or None (white).
    :param stamp_ns: header stamp, ROS time in integer nanoseconds.
    :param ns: marker namespace; with ``marker_id`` (int32) it names the marker in RViz.
    :param alpha: opacity in [0, 1].
    :param uv: (V, 2) finite texture coordinates, nominally in [0, 1] (Ogre: v = 0 at the
        image top), or None; required with ``texture``.
    :param texture: ``(format, data)``: an encoded image ('png', 'jpeg' or 'jpg') and its
        bytes, sent in the marker; or None.
    :return: the CDR bytes, encapsulation header included, ready for a raw publish or a bag.
    :raises ShapeError: naming the argument, for wrong shapes, dtypes or values.
    """
    vertices = real_rows('vertices', vertices, None, 3, np.float64)
    faces = face_indices(faces, vertices.shape[0])
    if faces.shape[0] == 0:
        raise ShapeError('faces: expected at least one triangle, got shape (0, 3)')
    marker_id = check_int('marker_id', marker_id, 'int32')
    alpha = _check_alpha(alpha)
    encoded_texture = None
    if texture is not None:
        encoded_texture = _check_texture(texture)
        if uv is None:
            raise ShapeError('uv: expected (V, 2) texture coordinates with a texture, got None')
    corners = faces.reshape(-1)

    colors = np.empty((0, 4), np.float32)
    if colours is not None:
        colors = np.empty((corners.size, 4), np.float32)
        colors[:, :3] = unit_colours(colours, vertices.shape[0])[corners]
        colors[:, 3] = alpha
    uv_coordinates = np.empty((0, 2), np.float32)
    if uv is not None:
        uv_coordinates = real_rows('uv', uv, vertices.shape[0], 2, np.float32)[corners]

    writer = CdrWriter()
    writer.header(stamp_ns, frame_id)
    writer.string(ns)
    writer.int32(marker_id)
    writer.int32(TRIANGLE_LIST)
    writer.int32(ADD)
    writer.array(np.array(IDENTITY_POSE), np.float64)
    writer.array(np.ones(3), np.float64)  # scale
    writer.array(np.array([1.0, 1.0, 1.0, alpha if colours is None else 1.0]), np.float32)
    writer.int32(0)  # lifetime.sec
    writer.uint32(0)  # lifetime.nanosec
    writer.boolean(False)  # frame_locked
    writer.sequence(vertices[corners], np.float64)  # points
    writer.sequence(colors, np.float32)
    _write_texture(writer, encoded_texture, stamp_ns, frame_id)
    writer.sequence(uv_coordinates, np.float32)
    writer.string('')  # text
    writer.string('')  # mesh_resource
    writer.string('')  # mesh_file.filename
    writer.sequence(np.empty(0, np.uint8), np.uint8)  # mesh_file.data
    writer.boolean(False)  # mesh_use_embedded_materials
    return writer.bytes()


def _write_texture(writer: CdrWriter, texture: tuple[str, np.ndarray] | None, stamp_ns: int,
                   frame_id: str) -> None:
    """Write texture_resource and texture (a sensor_msgs/CompressedImage; empty if None)."""
    if texture is None:
        writer.string('')
        writer.header(0, '')
        writer.string('')
        writer.sequence(np.empty(0, np.uint8), np.uint8)
        return
    image_format, data = texture
    writer.string(EMBEDDED_TEXTURE)
    writer.header(stamp_ns, frame_id)
    writer.string(image_format)
    writer.sequence(data, np.uint8)
