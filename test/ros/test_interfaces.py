"""
lim_ros_msgs through real ROS 2: IndexedMesh and QueryReconstruction.

The interfaces are built with rosidl into the venv by scripts/env.sh. An IndexedMesh filled
from NumPy arrays survives CDR serialisation and a real topic unchanged, and a
QueryReconstruction server answers a client with a point cloud and a mesh.

The mesh arrays are assigned as ``array.array`` of the field's own type code ('f' for
float32[], 'I' for uint32[], 'B' for uint8[]), made from NumPy with ``frombytes``. That is the
one input the generated setters take fast in both of their modes: by default they copy it
with ``array.array(code, value)`` (a memory copy; a NumPy array or a list is converted element
by element instead, about 70 times slower), and with field checks on
(``ROS_PYTHON_CHECK_FIELDS=1`` or ``check_fields=True``) they keep it as it is, while a NumPy
array is rejected there.
"""

import array

from builtin_interfaces.msg import Time
from lim_ros_msgs.msg import IndexedMesh
from lim_ros_msgs.srv import QueryReconstruction
import numpy as np
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.serialization import deserialize_message, serialize_message
from ros.ros_io import round_trip, spin_until
from sensor_msgs.msg import PointCloud2, PointField

pytestmark = pytest.mark.ros

# Field type codes of the generated Python class: float32[] 'f', uint32[] 'I', uint8[] 'B'.
TYPECODES = {'vertices': 'f', 'triangles': 'I', 'vertex_colors': 'B', 'uv': 'f'}
DTYPES = {'vertices': np.float32, 'triangles': np.uint32, 'vertex_colors': np.uint8,
          'uv': np.float32}
# The service under test: stamps before this one are "outside the keyframe buffer".
BUFFER_START = Time(sec=1_700_000_000, nanosec=0)
DEFAULT_NUM_POINTS = 64


def _as_field(values, name):
    """Return ``values`` flattened into an ``array.array`` of field ``name``'s type code."""
    out = array.array(TYPECODES[name])
    out.frombytes(np.ascontiguousarray(values, dtype=DTYPES[name]).tobytes())
    return out


def _field(message, name):
    """Return field ``name`` of an IndexedMesh as a flat NumPy array (a view, no copy)."""
    return np.frombuffer(getattr(message, name), dtype=DTYPES[name])


def _grid_mesh(n, stamp, frame_id='lim_volume', track_id=7):
    """
    Build an ``n`` x ``n`` vertex grid on the unit square as an IndexedMesh, from NumPy.

    :return: the message and the NumPy arrays it was built from, by field name
    """
    u, v = np.meshgrid(np.linspace(0.0, 1.0, n), np.linspace(0.0, 1.0, n))
    vertices = np.stack([u, v, 0.25 * np.sin(3.0 * u) * v], axis=-1).reshape(-1, 3)
    idx = np.arange(n * n).reshape(n, n)
    a, b, c, d = idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]
    triangles = np.concatenate([np.stack([a, b, c], -1), np.stack([a, c, d], -1)])
    arrays = {
        'vertices': vertices.astype(np.float32),
        'triangles': triangles.reshape(-1, 3).astype(np.uint32),
        'vertex_colors': (255 * vertices).clip(0, 255).astype(np.uint8),
        'uv': np.stack([u, v], axis=-1).reshape(-1, 2).astype(np.float32),
    }
    mesh = IndexedMesh(track_id=track_id)
    mesh.header.frame_id = frame_id
    mesh.header.stamp = stamp
    for name, values in arrays.items():
        setattr(mesh, name, _as_field(values, name))
    return mesh, arrays


def _assert_mesh_equal(received, arrays, stamp, frame_id='lim_volume', track_id=7):
    for name, values in arrays.items():
        np.testing.assert_array_equal(_field(received, name), values.ravel(), err_msg=name)
    assert received.header.frame_id == frame_id
    assert (received.header.stamp.sec, received.header.stamp.nanosec) == (
        stamp.sec, stamp.nanosec)
    assert received.track_id == track_id


def test_indexed_mesh_fields_take_array_array_in_both_modes():
    _, arrays = _grid_mesh(4, Time(sec=1, nanosec=2))
    vertices = _as_field(arrays['vertices'], 'vertices')

    # Default mode: the array is copied (as a block of memory), values and type kept.
    mesh = IndexedMesh(check_fields=False)
    mesh.vertices = vertices
    assert mesh.vertices.typecode == 'f' and mesh.vertices == vertices
    np.testing.assert_array_equal(_field(mesh, 'vertices'), arrays['vertices'].ravel())
    # A NumPy array is accepted as well, converted element by element to the same values.
    mesh.triangles = arrays['triangles'].ravel()
    assert isinstance(mesh.triangles, array.array) and mesh.triangles.typecode == 'I'
    np.testing.assert_array_equal(_field(mesh, 'triangles'), arrays['triangles'].ravel())

    # Field checks on: the array is kept as it is; a wrong type code or NumPy is refused.
    checked = IndexedMesh(check_fields=True)
    checked.vertices = vertices
    assert checked.vertices is vertices
    with pytest.raises(AssertionError, match='type code'):
        checked.vertices = array.array('d', [0.0, 1.0, 2.0])  # float64 is not float32[]
    with pytest.raises(AssertionError):
        checked.triangles = arrays['triangles'].ravel()


def test_indexed_mesh_serialisation_round_trip():
    stamp = Time(sec=1_700_000_123, nanosec=456_789)
    mesh, arrays = _grid_mesh(50, stamp)
    assert arrays['vertices'].shape == (2500, 3) and arrays['triangles'].shape == (4802, 3)

    data = serialize_message(mesh)

    # CDR: the four arrays are stored as flat little-endian payloads, so the message is
    # at least their bytes (plus header, lengths and padding, well under a kilobyte).
    payload = sum(values.nbytes for values in arrays.values())
    assert payload <= len(data) < payload + 1024
    received = deserialize_message(data, IndexedMesh)
    _assert_mesh_equal(received, arrays, stamp)
    assert received == mesh


def test_empty_colour_and_uv_round_trip():
    mesh = IndexedMesh()
    mesh.vertices = _as_field(np.eye(3), 'vertices')
    mesh.triangles = _as_field([0, 1, 2], 'triangles')
    received = deserialize_message(serialize_message(mesh), IndexedMesh)
    np.testing.assert_array_equal(_field(received, 'vertices'), np.eye(3).ravel())
    np.testing.assert_array_equal(_field(received, 'triangles'), [0, 1, 2])
    assert len(received.vertex_colors) == 0 and len(received.uv) == 0
    assert received.track_id == 0 and received.header.frame_id == ''


def test_indexed_mesh_over_a_topic(ros_context, node_suffix):
    stamp = Time(sec=1_700_000_200, nanosec=5)
    mesh, arrays = _grid_mesh(40, stamp, frame_id=f'volume_{node_suffix}', track_id=3)
    received = round_trip(ros_context, f'mesh_{node_suffix}', IndexedMesh, mesh)
    _assert_mesh_equal(received, arrays, stamp, frame_id=f'volume_{node_suffix}', track_id=3)


def _circle_cloud(num_points, stamp, frame_id):
    """Return an x, y, z float32 PointCloud2 of ``num_points`` points on the unit circle."""
    angles = np.linspace(0.0, 2.0 * np.pi, num_points, endpoint=False)
    xyz = np.stack([np.cos(angles), np.sin(angles), np.zeros_like(angles)], axis=-1)
    cloud = PointCloud2(height=1, width=num_points, is_bigendian=False, point_step=12,
                        row_step=12 * num_points, is_dense=True)
    cloud.header.stamp = stamp
    cloud.header.frame_id = frame_id
    cloud.fields = [PointField(name=axis, offset=4 * i, datatype=PointField.FLOAT32, count=1)
                    for i, axis in enumerate('xyz')]
    cloud.data = xyz.astype('<f4').tobytes()
    return cloud


def _handle_query(request, response):
    """Answer QueryReconstruction like the node: reject stamps before the buffer."""
    stamp = request.stamp
    if (stamp.sec, stamp.nanosec) < (BUFFER_START.sec, BUFFER_START.nanosec):
        response.success = False
        response.message = (f'stamp {stamp.sec}.{stamp.nanosec:09d} is before the keyframe '
                            f'buffer (starts at {BUFFER_START.sec}.{BUFFER_START.nanosec:09d})')
        return response
    num_points = request.num_points or DEFAULT_NUM_POINTS
    resolution = request.mesh_resolution or 8
    response.success = True
    response.message = f'{num_points} points, mesh at resolution {resolution}'
    response.points = _circle_cloud(num_points, stamp, 'lim_volume')
    response.mesh, _ = _grid_mesh(resolution, stamp, track_id=0)
    return response


def test_query_reconstruction_service(ros_context, node_suffix):
    service_name = f'/lim_ros_test/query_{node_suffix}'
    server = rclpy.create_node(f'query_server_{node_suffix}', context=ros_context)
    caller = rclpy.create_node(f'query_client_{node_suffix}', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(server)
    executor.add_node(caller)

    def call(request):
        future = client.call_async(request)
        spin_until(executor, future.done, f'the response of {service_name}')
        return future.result()

    try:
        server.create_service(QueryReconstruction, service_name, _handle_query)
        client = caller.create_client(QueryReconstruction, service_name)
        spin_until(executor, client.service_is_ready, f'{service_name} to be ready')

        stamp = Time(sec=1_700_000_300, nanosec=250_000_000)
        ok = call(QueryReconstruction.Request(stamp=stamp, num_points=100, mesh_resolution=5))
        default = call(QueryReconstruction.Request(stamp=stamp))
        late = call(QueryReconstruction.Request(stamp=Time(sec=12, nanosec=0), num_points=5))
    finally:
        executor.shutdown()
        server.destroy_node()
        caller.destroy_node()

    assert ok.success is True
    assert ok.message == '100 points, mesh at resolution 5'
    assert (ok.points.width, ok.points.height, ok.points.point_step) == (100, 1, 12)
    assert [field.name for field in ok.points.fields] == ['x', 'y', 'z']
    xyz = np.frombuffer(ok.points.data, dtype='<f4').reshape(-1, 3)
    np.testing.assert_allclose(np.linalg.norm(xyz, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(xyz[0], [1.0, 0.0, 0.0], atol=1e-7)
    _, arrays = _grid_mesh(5, stamp)
    _assert_mesh_equal(ok.mesh, arrays, stamp, track_id=0)
    assert (ok.points.header.stamp.sec, ok.points.header.stamp.nanosec) == (
        1_700_000_300, 250_000_000)

    assert default.success is True
    assert default.points.width == DEFAULT_NUM_POINTS
    assert len(default.mesh.vertices) == 3 * 8 * 8 and len(default.mesh.triangles) == 3 * 98

    assert late.success is False
    assert late.message.startswith('stamp 12.000000000 is before the keyframe buffer')
    assert late.points.width == 0 and len(late.points.data) == 0
    assert len(late.mesh.vertices) == 0 and len(late.mesh.triangles) == 0
