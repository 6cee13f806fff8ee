"""
Reference messages for the wire tests: one description, serialised by rosbags and by rclpy.

A message is described as a tree of :class:`Msg` (type name and fields), lists (sequences
of messages), NumPy arrays (sequences of primitives) and Python scalars. ``rosbags_cdr``
builds it from rosbags' Jazzy classes and serialises it; ``assert_matches_rclpy`` builds it
from the real rclpy message classes (imported only when called, so the rosbags tests run
without ROS).

rclpy's serialiser (Fast CDR) does not zero alignment padding, so its bytes can differ from
ours (zero padding, like rosbags) in padding only. It is checked by: the same length, rclpy
deserialising our bytes to a message equal to the reference, and every byte that differs
being zero in ours.
"""

import array
from dataclasses import dataclass
import importlib
from pathlib import Path

import numpy as np
from rosbags.typesys import get_types_from_msg, get_typestore, Stores

REPO = Path(__file__).resolve().parents[2]
INDEXED_MESH_MSG_FILE = REPO / 'lim_ros_msgs' / 'msg' / 'IndexedMesh.msg'
INDEXED_MESH_MSG = """
std_msgs/Header header
float32[] vertices
uint32[] triangles
uint8[] vertex_colors
float32[] uv
uint32 track_id
"""
INDEXED_MESH = 'lim_ros_msgs/msg/IndexedMesh'
TYPECODES = {np.dtype(np.uint8): 'B', np.dtype(np.uint32): 'I', np.dtype(np.float32): 'f',
             np.dtype(np.float64): 'd'}


def _typestore():
    """Return rosbags' ROS 2 Jazzy typestore with lim_ros_msgs/msg/IndexedMesh registered."""
    store = get_typestore(Stores.ROS2_JAZZY)
    text = (INDEXED_MESH_MSG_FILE.read_text(encoding='utf-8')
            if INDEXED_MESH_MSG_FILE.exists() else INDEXED_MESH_MSG)
    store.register(get_types_from_msg(text, INDEXED_MESH))
    return store


TYPESTORE = _typestore()


@dataclass(frozen=True)
class Msg:
    """A message of type ``typename`` ('pkg/msg/Name') with every field given."""

    typename: str
    fields: dict


def msg(typename, **fields):
    """Return ``Msg(typename, fields)``."""
    return Msg(typename, fields)


def header(stamp_ns, frame_id):
    """Describe a std_msgs/Header at ``stamp_ns`` (integer nanoseconds)."""
    sec, nanosec = divmod(stamp_ns, 1_000_000_000)
    return msg('std_msgs/msg/Header',
               stamp=msg('builtin_interfaces/msg/Time', sec=sec, nanosec=nanosec),
               frame_id=frame_id)


def _to_rosbags(value):
    if isinstance(value, Msg):
        fields = {name: _to_rosbags(field) for name, field in value.fields.items()}
        return TYPESTORE.types[value.typename](**fields)
    if isinstance(value, list):
        return [_to_rosbags(item) for item in value]
    return value


def rosbags_cdr(description):
    """Serialise ``description`` with rosbags; return the CDR bytes."""
    message = _to_rosbags(description)
    return bytes(TYPESTORE.serialize_cdr(message, description.typename))


def to_rclpy(value):
    """Build ``value`` from the rclpy message classes (NumPy arrays become array.array)."""
    if isinstance(value, Msg):
        package, _, name = value.typename.split('/')
        message = getattr(importlib.import_module(f'{package}.msg'), name)()
        for field, item in value.fields.items():
            setattr(message, field, to_rclpy(item))
        return message
    if isinstance(value, list):
        return [to_rclpy(item) for item in value]
    if isinstance(value, np.ndarray):
        return array.array(TYPECODES[value.dtype], value.tobytes())
    return value


def assert_matches_rclpy(blob, description):
    """Check ``blob`` against rclpy's serialisation of ``description`` (see module doc)."""
    from rclpy.serialization import deserialize_message, serialize_message

    reference = to_rclpy(description)
    expected = np.frombuffer(serialize_message(reference), np.uint8)
    ours = np.frombuffer(blob, np.uint8)
    assert ours.size == expected.size
    assert deserialize_message(blob, type(reference)) == reference
    differing = np.flatnonzero(ours != expected)
    assert not ours[differing].any(), f'bytes {differing} differ from rclpy outside padding'
