"""
sensor_msgs/PointCloud2 of (coloured) surface points, serialised straight from NumPy.

Convention: one unordered row (height 1, width N, is_dense true, little-endian) of points
``x, y, z`` (float32, metres, in ``frame_id``), then, when colours are given, ``rgb``: a
float32 whose bits are the uint32 ``0x00RRGGBB`` (the RViz / PCL packing), so a point is 16
bytes. Without colours the fields are x, y, z only (12 bytes a point): no colour is invented.
"""

from typing import NamedTuple

from lim_ros.errors import ShapeError
from lim_ros.wire.arrays import byte_colours, real_rows
from lim_ros.wire.cdr import CdrReader, CdrWriter
import numpy as np

FLOAT32 = 7  # sensor_msgs/PointField.FLOAT32
XYZ_FIELDS = (('x', 0), ('y', 4), ('z', 8))
XYZRGB_FIELDS = (*XYZ_FIELDS, ('rgb', 12))


class ParsedPointCloud(NamedTuple):
    """A PointCloud2 read back from its CDR bytes."""

    stamp_ns: int
    frame_id: str
    points: np.ndarray  # (N, 3) float32, metres
    colours: np.ndarray | None  # (N, 3) uint8 RGB, or None when the cloud has no rgb field


def point_cloud_cdr(points: np.ndarray, colours: np.ndarray | None, stamp_ns: int,
                    frame_id: str) -> bytes:
    """
    Serialise a sensor_msgs/PointCloud2 of ``points``.

    :param points: (N, 3) real, metres in ``frame_id``; finite (cast to float32).
    :param colours: (N, 3) uint8 RGB, or None for a cloud without an rgb field.
    :param stamp_ns: header stamp, ROS time in integer nanoseconds.
    :return: the CDR bytes, encapsulation header included, ready for a raw publish or a bag.
    :raises ShapeError: for wrong shapes or dtypes, or NaN / inf points.
    """
    xyz = real_rows('points', points, None, 3, np.float32)
    num_points = xyz.shape[0]
    fields = XYZ_FIELDS if colours is None else XYZRGB_FIELDS
    record = np.empty((num_points, len(fields)), np.dtype('<f4'))
    record[:, :3] = xyz
    if colours is not None:
        rgb = byte_colours(colours, num_points).astype(np.uint32)
        record.view('<u4')[:, 3] = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
    point_step = record.itemsize * len(fields)

    writer = CdrWriter()
    writer.header(stamp_ns, frame_id)
    writer.uint32(1)  # height
    writer.uint32(num_points)  # width
    writer.uint32(len(fields))
    for name, offset in fields:
        writer.string(name)
        writer.uint32(offset)
        writer.uint8(FLOAT32)
        writer.uint32(1)  # count
    writer.boolean(False)  # is_bigendian
    writer.uint32(point_step)
    writer.uint32(point_step * num_points)  # row_step
    writer.sequence(record.reshape(-1).view(np.uint8), np.uint8)
    writer.boolean(True)  # is_dense
    return writer.bytes()


def parse_point_cloud_cdr(blob: bytes | memoryview) -> ParsedPointCloud:
    """
    Read back a PointCloud2 laid out as :func:`point_cloud_cdr` writes it.

    :return: ``(stamp_ns, frame_id, points, colours)``, arrays copied out of the blob.
    :raises ShapeError: when the blob is truncated or its layout is not x, y, z[, rgb] float32
        in one little-endian row.
    """
    reader = CdrReader(blob)
    stamp_ns, frame_id = reader.header()
    height, width = reader.uint32(), reader.uint32()
    fields = []
    for _ in range(reader.uint32()):
        name, offset, datatype, count = (
            reader.string(), reader.uint32(), reader.uint8(), reader.uint32())
        if (datatype, count) != (FLOAT32, 1):
            raise ShapeError(f'fields: expected {name} as 1 FLOAT32 ({FLOAT32}), '
                             f'got {count} of datatype {datatype}')
        fields.append((name, offset))
    if tuple(fields) not in (XYZ_FIELDS, XYZRGB_FIELDS):
        raise ShapeError(f'fields: expected {XYZ_FIELDS} or {XYZRGB_FIELDS}, got {fields}')
    layout = {'height': height, 'is_bigendian': reader.boolean(),
              'point_step': reader.uint32(), 'row_step': reader.uint32()}
    expected = {'height': 1, 'is_bigendian': False,
                'point_step': 4 * len(fields), 'row_step': 4 * len(fields) * width}
    if layout != expected:
        raise ShapeError(f'layout: expected {expected}, got {layout}')
    data = reader.sequence(np.uint8)
    if data.size != layout['row_step']:
        raise ShapeError(f'data: expected {layout["row_step"]} bytes, got {data.size}')
    record = data.view('<f4').reshape(width, len(fields))
    points = record[:, :3].astype(np.float32)
    if len(fields) == len(XYZ_FIELDS):
        return ParsedPointCloud(stamp_ns, frame_id, points, None)
    rgb = record.view('<u4')[:, 3]
    colours = np.stack([rgb >> 16, rgb >> 8, rgb], axis=1).astype(np.uint8)
    return ParsedPointCloud(stamp_ns, frame_id, points, colours)
