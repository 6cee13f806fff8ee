"""triangle_marker_cdr against rosbags and rclpy, a raw publish through rclpy, and errors."""

import io
import time

from lim_ros.errors import ShapeError, StampError
from lim_ros.wire.marker import triangle_marker_cdr
import numpy as np
from PIL import Image
import pytest
from wire.messages import assert_matches_rclpy, header, msg, rosbags_cdr, TYPESTORE

FRAME_IDS = ['', 'a', 'ab', 'abc', 'abcd', 'abcde']
STAMP_NS = 1_700_000_001_000_000_003
FACES = np.array([[0, 1, 2], [2, 3, 4], [4, 1, 0]])


def _mesh(seed=0):
    """Return 5 vertices, uint8 and float colours, and uv of a 3-face test mesh."""
    rng = np.random.default_rng(seed)
    vertices = rng.normal(size=(5, 3)).astype(np.float32)
    byte_colours = rng.integers(0, 256, (5, 3), np.uint8)
    unit_colours = rng.random((5, 3)).astype(np.float32)
    uv = rng.random((5, 2)).astype(np.float32)
    return vertices, byte_colours, unit_colours, uv


def _png():
    buffer = io.BytesIO()
    Image.fromarray(np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)).save(buffer, 'PNG')
    return buffer.getvalue()


def _vector(typename, **values):
    return msg(typename, **{name: float(value) for name, value in values.items()})


def _description(vertices, faces, colours, frame_id, ns, marker_id, alpha, uv, texture):
    """Describe the Marker point by point, as a ROS user would build it."""
    corners = [int(index) for face in faces for index in face]
    alpha = float(np.float32(alpha))
    points = [_vector('geometry_msgs/msg/Point', x=vertices[i, 0], y=vertices[i, 1],
                      z=vertices[i, 2]) for i in corners]
    colors = []
    if colours is not None:
        rgb = (colours.astype(np.float32) / np.float32(255) if colours.dtype == np.uint8
               else colours)
        colors = [_vector('std_msgs/msg/ColorRGBA', r=rgb[i, 0], g=rgb[i, 1], b=rgb[i, 2],
                          a=alpha) for i in corners]
    uv_coordinates = [] if uv is None else [
        _vector('visualization_msgs/msg/UVCoordinate', u=uv[i, 0], v=uv[i, 1]) for i in corners]
    texture_image = msg('sensor_msgs/msg/CompressedImage', header=header(0, ''), format='',
                        data=np.empty(0, np.uint8))
    if texture is not None:
        texture_image = msg('sensor_msgs/msg/CompressedImage', header=header(STAMP_NS, frame_id),
                            format=texture[0], data=np.frombuffer(texture[1], np.uint8))
    return msg(
        'visualization_msgs/msg/Marker', header=header(STAMP_NS, frame_id), ns=ns, id=marker_id,
        type=11, action=0,
        pose=msg('geometry_msgs/msg/Pose', position=_vector('geometry_msgs/msg/Point', x=0, y=0,
                                                            z=0),
                 orientation=_vector('geometry_msgs/msg/Quaternion', x=0, y=0, z=0, w=1)),
        scale=_vector('geometry_msgs/msg/Vector3', x=1, y=1, z=1),
        color=_vector('std_msgs/msg/ColorRGBA', r=1, g=1, b=1,
                      a=alpha if colours is None else 1),
        lifetime=msg('builtin_interfaces/msg/Duration', sec=0, nanosec=0), frame_locked=False,
        points=points, colors=colors,
        texture_resource='' if texture is None else 'embedded://texture',
        texture=texture_image, uv_coordinates=uv_coordinates, text='', mesh_resource='',
        mesh_file=msg('visualization_msgs/msg/MeshFile', filename='',
                      data=np.empty(0, np.uint8)),
        mesh_use_embedded_materials=False)


def _cases():
    """Yield (frame_id, ns, colour mode, textured, alpha): every frame id and option."""
    modes = ['none', 'uint8', 'float']
    for index, frame_id in enumerate(FRAME_IDS):
        for mode in modes:
            for textured in (False, True):
                yield frame_id, 'mesh'[:index % 5], mode, textured, (1.0, 0.3)[index % 2]


def _build(frame_id, ns, mode, textured, alpha):
    """Return (our bytes, description) of one case."""
    vertices, byte_colours, unit_colours, uv = _mesh()
    colours = {'none': None, 'uint8': byte_colours, 'float': unit_colours}[mode]
    uv, texture = (uv, ('png', _png())) if textured else (None, None)
    blob = triangle_marker_cdr(vertices, FACES, colours, STAMP_NS, frame_id, ns, -7, alpha,
                               uv=uv, texture=texture)
    return blob, _description(vertices, FACES, colours, frame_id, ns, -7, alpha, uv, texture)


CASES = list(_cases())


@pytest.mark.parametrize('frame_id, ns, mode, textured, alpha', CASES)
def test_matches_rosbags(frame_id, ns, mode, textured, alpha):
    blob, description = _build(frame_id, ns, mode, textured, alpha)
    assert blob == rosbags_cdr(description)


@pytest.mark.ros
@pytest.mark.parametrize('frame_id, ns, mode, textured, alpha', CASES)
def test_matches_rclpy(frame_id, ns, mode, textured, alpha):
    assert_matches_rclpy(*_build(frame_id, ns, mode, textured, alpha))


def test_points_are_face_corners_and_uv_without_texture():
    vertices, byte_colours, _, uv = _mesh()
    blob = triangle_marker_cdr(vertices.astype(np.float64), FACES.astype(np.uint32),
                               byte_colours, 5, 'map', 'ns', 0, uv=uv)
    marker = TYPESTORE.deserialize_cdr(blob, 'visualization_msgs/msg/Marker')
    points = np.array([[p.x, p.y, p.z] for p in marker.points])
    np.testing.assert_array_equal(points, vertices[FACES].reshape(-1, 3))
    colors = np.array([[c.r, c.g, c.b, c.a] for c in marker.colors])
    np.testing.assert_allclose(colors[:, :3] * 255, byte_colours[FACES].reshape(-1, 3),
                               atol=1e-4)
    np.testing.assert_array_equal(colors[:, 3], 1.0)
    assert marker.texture_resource == '' and len(marker.uv_coordinates) == 9


@pytest.mark.parametrize('change, error, match', [
    ({'faces': np.array([[0, 1, 5]])}, ShapeError, r'faces: expected indices in \[0, 5\)'),
    ({'faces': np.array([[0, -1, 2]])}, ShapeError, r'faces: expected indices in \[0, 5\)'),
    ({'faces': np.array([[0.0, 1.0, 2.0]])}, ShapeError, 'faces: expected integer'),
    ({'faces': np.zeros((0, 3), np.int64)}, ShapeError, 'faces: expected at least one'),
    ({'faces': np.array([0, 1, 2])}, ShapeError, 'faces: expected shape'),
    ({'vertices': np.full((5, 3), np.nan)}, ShapeError, 'vertices: expected finite'),
    ({'vertices': np.zeros((5, 4))}, ShapeError, 'vertices: expected shape'),
    ({'colours': np.full((5, 3), 1.5)}, ShapeError, r'colours: expected float values in \[0, 1\]'),
    ({'colours': np.full((5, 3), np.nan)}, ShapeError, 'colours: expected float values'),
    ({'colours': np.zeros((5, 3), np.int32)}, ShapeError, 'colours: expected uint8 or float'),
    ({'colours': np.zeros((4, 3), np.uint8)}, ShapeError, 'colours: expected shape'),
    ({'uv': np.zeros((5, 3))}, ShapeError, 'uv: expected shape'),
    ({'texture': ('png', b'x')}, ShapeError, 'uv: expected .* with a texture, got None'),
    ({'texture': ('bmp', b'x'), 'uv': np.zeros((5, 2))}, ShapeError,
     "texture: expected format one of \\('png', 'jpeg', 'jpg'\\), got 'bmp'"),
    ({'texture': ('png', b''), 'uv': np.zeros((5, 2))}, ShapeError,
     'texture: expected non-empty encoded image bytes'),
    ({'texture': ('png', 'text'), 'uv': np.zeros((5, 2))}, ShapeError,
     'texture: expected encoded image bytes'),
    ({'texture': b'png', 'uv': np.zeros((5, 2))}, ShapeError, 'texture: expected a'),
    ({'alpha': 1.5}, ShapeError, r'alpha: expected a number in \[0, 1\], got 1.5'),
    ({'alpha': float('nan')}, ShapeError, 'alpha: expected a number'),
    ({'marker_id': 2**31}, ShapeError, 'marker_id: expected an integer of type int32'),
    ({'stamp_ns': -1}, StampError, 'stamp_ns'),
    ({'ns': 'a\x00'}, ShapeError, 'string: expected no NUL'),
])
def test_errors(change, error, match):
    vertices, byte_colours, _, _ = _mesh()
    arguments = {'vertices': vertices, 'faces': FACES, 'colours': byte_colours,
                 'stamp_ns': 0, 'frame_id': 'map', 'ns': 'mesh', 'marker_id': 0, **change}
    with pytest.raises(error, match=match):
        triangle_marker_cdr(**arguments)


def test_raw_publish_reaches_a_real_subscriber(ros_context, node_suffix):
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.qos import QoSProfile, ReliabilityPolicy
    from visualization_msgs.msg import Marker

    vertices, byte_colours, _, _ = _mesh()
    blob = triangle_marker_cdr(vertices, FACES, byte_colours, STAMP_NS, 'map', 'mesh', 3)
    node = rclpy.create_node(f'wire_marker_{node_suffix}', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    topic = f'/lim_ros_test/marker_{node_suffix}'
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.RELIABLE)
    received = []
    try:
        node.create_subscription(Marker, topic, received.append, qos)
        publisher = node.create_publisher(Marker, topic, qos)
        deadline = time.monotonic() + 10.0
        while publisher.get_subscription_count() == 0 and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
        publisher.publish(blob)
        while not received and time.monotonic() < deadline:
            executor.spin_once(timeout_sec=0.05)
    finally:
        executor.shutdown()
        node.destroy_node()
    assert received, f'no Marker arrived on {topic} within 10 s'
    marker = received[0]
    assert (marker.type, marker.id, marker.ns, marker.header.frame_id) == (11, 3, 'mesh', 'map')
    points = np.array([[p.x, p.y, p.z] for p in marker.points])
    np.testing.assert_array_equal(points, vertices[FACES].reshape(-1, 3))
    assert len(marker.colors) == len(marker.points) == 9
