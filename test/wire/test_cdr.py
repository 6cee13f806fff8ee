"""CdrWriter / CdrReader against rosbags' serialiser, and their errors."""

from lim_ros.errors import ShapeError
from lim_ros.wire.cdr import CdrReader, CdrWriter, check_int
import numpy as np
import pytest
from rosbags.typesys import get_types_from_msg
from wire.messages import assert_matches_rclpy, header, msg, rosbags_cdr, to_rclpy, TYPESTORE

MIXED = 'lim_ros_test_msgs/msg/Mixed'
TYPESTORE.register(get_types_from_msg("""
uint8 a
string s
float64 d
int32 i
bool b
uint32 u
float32 f
float64[] seq_d
uint8[] seq_b
float32[] seq_f
float64[3] fixed_d
string t
""", MIXED))


def _mixed(text, length, rng):
    """Return (writer bytes, rosbags bytes, values) of one Mixed message."""
    values = {
        'a': 200, 's': text, 'd': float(rng.normal()), 'i': -123456, 'b': True,
        'u': 4_000_000_000, 'f': float(np.float32(rng.normal())),
        'seq_d': rng.normal(size=length), 'seq_b': rng.integers(0, 256, length, np.uint8),
        'seq_f': rng.normal(size=length).astype(np.float32), 'fixed_d': rng.normal(size=3),
        't': text[::-1],
    }
    writer = CdrWriter()
    writer.uint8(values['a'])
    writer.string(values['s'])
    writer.float64(values['d'])
    writer.int32(values['i'])
    writer.boolean(values['b'])
    writer.uint32(values['u'])
    writer.float32(values['f'])
    writer.sequence(values['seq_d'], np.float64)
    writer.sequence(values['seq_b'], np.uint8)
    writer.sequence(values['seq_f'], np.float32)
    writer.array(values['fixed_d'], np.float64)
    writer.string(values['t'])
    return writer.bytes(), rosbags_cdr(msg(MIXED, **values)), values


@pytest.mark.parametrize('length', [0, 1, 2, 3])
@pytest.mark.parametrize('text', ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'héllo'])
def test_writer_matches_rosbags(text, length):
    ours, reference, _ = _mixed(text, length, np.random.default_rng(length))
    assert ours == reference


@pytest.mark.parametrize('text', ['', 'abc', 'abcde'])
def test_reader_reads_writer(text):
    blob, _, values = _mixed(text, 3, np.random.default_rng(0))
    reader = CdrReader(blob)
    assert reader.uint8() == values['a']
    assert reader.string() == values['s']
    assert reader.float64() == values['d']
    assert reader.int32() == values['i']
    assert reader.boolean() is True
    assert reader.uint32() == values['u']
    assert reader.float32() == values['f']
    np.testing.assert_array_equal(reader.sequence(np.float64), values['seq_d'])
    np.testing.assert_array_equal(reader.sequence(np.uint8), values['seq_b'])
    np.testing.assert_array_equal(reader.sequence(np.float32), values['seq_f'])
    np.testing.assert_array_equal(reader.array(np.float64, 3), values['fixed_d'])
    assert reader.string() == values['t']


def test_header_and_struct_sequence():
    points = np.arange(12, dtype=np.float64).reshape(4, 3)
    writer = CdrWriter()
    writer.header(1_700_000_000_000_000_001, 'odd')
    writer.sequence(points, np.float64)
    reader = CdrReader(writer.bytes())
    assert reader.header() == (1_700_000_000_000_000_001, 'odd')
    np.testing.assert_array_equal(reader.sequence(np.float64, width=3), points)


def _joint_state(frame_id, velocity):
    """Return (our bytes, description) of a sensor_msgs/JointState with empty names."""
    writer = CdrWriter()
    writer.header(5, frame_id)
    writer.uint32(0)  # name: string[]
    for values in (np.empty(0), velocity, np.empty(0)):
        writer.sequence(values, np.float64)
    description = msg('sensor_msgs/msg/JointState', header=header(5, frame_id), name=[],
                      position=np.empty(0), velocity=velocity, effort=np.empty(0))
    return writer.bytes(), description


@pytest.mark.parametrize('frame_id', ['', 'a', 'abcd'])
@pytest.mark.parametrize('velocity', [np.empty(0), np.array([1.5])])
def test_empty_float64_sequences_are_not_padded(frame_id, velocity):
    ours, description = _joint_state(frame_id, velocity)
    assert ours == rosbags_cdr(description)


@pytest.mark.ros
def test_empty_float64_sequences_read_by_rclpy():
    # Here rclpy's serialize_message returns trailing garbage bytes (its length is what it
    # would be if empty float64 sequences were padded), so compare through deserialisation.
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import JointState

    for velocity in (np.empty(0), np.array([1.5])):
        ours, description = _joint_state('a', velocity)
        assert deserialize_message(ours, JointState) == to_rclpy(description)


@pytest.mark.ros
def test_header_matches_rclpy():
    for frame_id in ('', 'a', 'ab', 'abc', 'abcd', 'abcde'):
        writer = CdrWriter()
        writer.header(1_234_567_890_123, frame_id)
        assert_matches_rclpy(writer.bytes(), header(1_234_567_890_123, frame_id))


@pytest.mark.parametrize('kind, value', [
    ('uint8', 256), ('uint8', -1), ('int32', 2**31), ('uint32', -1), ('uint32', 2**32),
    ('uint32', 1.0), ('int32', True),
])
def test_check_int_rejects(kind, value):
    with pytest.raises(ShapeError, match=f'marker_id: expected an integer of type {kind}'):
        check_int('marker_id', value, kind)
    with pytest.raises(ShapeError, match=kind):
        getattr(CdrWriter(), kind)(value)


def test_string_with_nul_rejected():
    with pytest.raises(ShapeError, match='string: expected no NUL'):
        CdrWriter().string('a\x00b')


def test_reader_errors():
    with pytest.raises(ShapeError, match='blob: expected the CDR little-endian header'):
        CdrReader(b'\x00\x00\x00\x00')
    writer = CdrWriter()
    writer.sequence(np.arange(4, dtype=np.float64), np.float64)
    with pytest.raises(ShapeError, match='blob: expected at least 44 bytes, got 40'):
        CdrReader(writer.bytes()[:-4]).sequence(np.float64)
    writer = CdrWriter()
    writer.uint32(2)
    writer.array(np.frombuffer(b'ab', np.uint8), np.uint8)
    with pytest.raises(ShapeError, match='string: expected a NUL-terminated string'):
        CdrReader(writer.bytes()).string()
