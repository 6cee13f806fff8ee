"""point_cloud_cdr against rosbags and rclpy, parse_point_cloud_cdr, and their errors."""

import struct

from lim_ros.errors import ShapeError
from lim_ros.wire.point_cloud import parse_point_cloud_cdr, point_cloud_cdr
import numpy as np
import pytest
from wire.messages import assert_matches_rclpy, header, msg, rosbags_cdr

FRAME_IDS = ['', 'a', 'ab', 'abc', 'abcd', 'abcde']
STAMP_NS = 1_700_000_000_500_000_001


def _cloud(num_points, seed=0):
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(num_points, 3)).astype(np.float32)
    colours = rng.integers(0, 256, (num_points, 3), np.uint8)
    return points, colours


def _field(name, offset):
    return msg('sensor_msgs/msg/PointField', name=name, offset=offset, datatype=7, count=1)


def _description(points, colours, stamp_ns, frame_id):
    """Describe the PointCloud2, packing each point with struct (independent of the code)."""
    names = ['x', 'y', 'z'] + ([] if colours is None else ['rgb'])
    data = bytearray()
    for index, point in enumerate(points):
        data += struct.pack('<3f', *point)
        if colours is not None:
            red, green, blue = (int(c) for c in colours[index])
            data += struct.pack('<I', red << 16 | green << 8 | blue)
    step = 4 * len(names)
    return msg('sensor_msgs/msg/PointCloud2', header=header(stamp_ns, frame_id), height=1,
               width=len(points), fields=[_field(name, 4 * i) for i, name in enumerate(names)],
               is_bigendian=False, point_step=step, row_step=step * len(points),
               data=np.frombuffer(bytes(data), np.uint8), is_dense=True)


CASES = [(frame_id, num_points, coloured) for frame_id in FRAME_IDS for num_points in (0, 1, 5)
         for coloured in (True, False)]


@pytest.mark.parametrize('frame_id, num_points, coloured', CASES)
def test_matches_rosbags_and_parses_back(frame_id, num_points, coloured):
    points, colours = _cloud(num_points)
    colours = colours if coloured else None
    blob = point_cloud_cdr(points, colours, STAMP_NS, frame_id)
    assert blob == rosbags_cdr(_description(points, colours, STAMP_NS, frame_id))

    parsed = parse_point_cloud_cdr(blob)
    assert (parsed.stamp_ns, parsed.frame_id) == (STAMP_NS, frame_id)
    np.testing.assert_array_equal(parsed.points, points)
    assert parsed.points.dtype == np.float32 and parsed.points.shape == (num_points, 3)
    if coloured:
        np.testing.assert_array_equal(parsed.colours, colours)
    else:
        assert parsed.colours is None


@pytest.mark.ros
@pytest.mark.parametrize('frame_id, num_points, coloured', CASES)
def test_matches_rclpy(frame_id, num_points, coloured):
    points, colours = _cloud(num_points)
    colours = colours if coloured else None
    assert_matches_rclpy(point_cloud_cdr(points, colours, STAMP_NS, frame_id),
                         _description(points, colours, STAMP_NS, frame_id))


def test_rgb_packing_is_0x00rrggbb():
    blob = point_cloud_cdr(np.zeros((1, 3)), np.array([[0x12, 0x34, 0x56]], np.uint8), 0, 'f')
    assert struct.unpack('<I', blob[-5:-1])[0] == 0x00123456  # data's last 4 bytes, is_dense


def test_float64_points_are_cast():
    points = np.array([[1.0, 2.0, 3.0]])
    parsed = parse_point_cloud_cdr(point_cloud_cdr(points, None, 0, 'map'))
    np.testing.assert_array_equal(parsed.points, points.astype(np.float32))


@pytest.mark.parametrize('points, colours, match', [
    (np.array([[0.0, np.nan, 0.0]]), None, 'points: expected finite values'),
    (np.array([[0.0, np.inf, 0.0]]), None, 'points: expected finite values'),
    (np.array([[1e39, 0.0, 0.0]]), None, 'points: expected finite values'),
    (np.zeros((4, 2)), None, 'points: expected shape'),
    (np.zeros(3), None, 'points: expected shape'),
    (np.array([['a', 'b', 'c']]), None, 'points: expected real numbers'),
    (np.zeros((2, 3)), np.zeros((2, 3), np.float32), 'colours: expected dtype uint8'),
    (np.zeros((2, 3)), np.zeros((3, 3), np.uint8), 'colours: expected shape'),
])
def test_writer_errors(points, colours, match):
    with pytest.raises(ShapeError, match=match):
        point_cloud_cdr(points, colours, 0, 'map')


def test_parse_rejects_other_layouts():
    points, colours = _cloud(2)
    foreign = _description(points, colours, 0, 'map')
    foreign.fields['fields'][3] = msg('sensor_msgs/msg/PointField', name='intensity',
                                      offset=12, datatype=7, count=1)
    with pytest.raises(ShapeError, match='fields: expected'):
        parse_point_cloud_cdr(rosbags_cdr(foreign))
    foreign.fields['fields'][3] = msg('sensor_msgs/msg/PointField', name='rgb', offset=12,
                                      datatype=6, count=1)
    with pytest.raises(ShapeError, match='fields: expected rgb as 1 FLOAT32'):
        parse_point_cloud_cdr(rosbags_cdr(foreign))
    tall = _description(points, colours, 0, 'map')
    tall.fields.update(height=2, width=1)
    with pytest.raises(ShapeError, match='layout: expected'):
        parse_point_cloud_cdr(rosbags_cdr(tall))
    with pytest.raises(ShapeError, match='blob: expected at least'):
        parse_point_cloud_cdr(point_cloud_cdr(points, colours, 0, 'map')[:-10])
