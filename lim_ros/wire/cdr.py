"""
A small writer and reader of ROS 2 serialised messages (little-endian CDR, XCDR1).

The layout is what rmw_fastrtps and rosbag2 store: a 4-byte encapsulation header
``00 01 00 00`` (CDR little-endian, no options), then the fields in declaration order. Each
primitive is aligned to its own size (8 at most), counted from just after the header;
padding bytes are zero. A string is a uint32 length that counts a terminating NUL, its UTF-8
bytes and the NUL. A sequence is a uint32 element count, then its elements; a nested message
adds no alignment of its own, only its fields do. An empty sequence writes its count and
nothing else (no padding to the element alignment).

Large arrays are held as references to their NumPy buffers and joined once by
:meth:`CdrWriter.bytes`: a message with a million points costs one copy, not a million
Python objects.
"""

import struct
from typing import Any

from lim_ros.errors import ShapeError
from lim_ros.wire.time import ns_to_stamp, stamp_to_ns
import numpy as np
import numpy.typing as npt

ENCAPSULATION = b'\x00\x01\x00\x00'

INT_RANGES = {
    'uint8': (0, 2**8 - 1),
    'int32': (-(2**31), 2**31 - 1),
    'uint32': (0, 2**32 - 1),
}


def check_int(name: str, value: object, kind: str) -> int:
    """
    Return ``value`` as an int if it is an integer that fits CDR type ``kind``.

    :param kind: one of ``INT_RANGES`` ('uint8', 'int32', 'uint32').
    :raises ShapeError: naming ``name``, when ``value`` is not an integer (bools excluded) or
        is outside the range of ``kind``.
    """
    low, high = INT_RANGES[kind]
    if (isinstance(value, bool) or not isinstance(value, (int, np.integer))
            or not low <= value <= high):
        raise ShapeError(f'{name}: expected an integer of type {kind} in [{low}, {high}], '
                         f'got {type(value).__name__} {value!r}')
    return int(value)


def _little_endian(dtype: npt.DTypeLike) -> np.dtype:
    """Return ``dtype`` in little-endian byte order (single bytes have none)."""
    return np.dtype(dtype).newbyteorder('<')


class CdrWriter:
    """
    Builds one serialised message, field by field, in declaration order.

    Arrays handed to :meth:`array` and :meth:`sequence` are referenced, not copied, until
    :meth:`bytes` joins everything; do not modify them in between.
    """

    def __init__(self) -> None:
        self._parts: list[bytes | memoryview] = [ENCAPSULATION]
        self._size = 0  # bytes written after the encapsulation header

    def _align(self, alignment: int) -> None:
        pad = -self._size % alignment
        if pad:
            self._parts.append(bytes(pad))
            self._size += pad

    def _append(self, data: bytes | memoryview, alignment: int) -> None:
        self._align(alignment)
        self._parts.append(data)
        self._size += len(data)

    def _pack(self, fmt: str, value: object) -> None:
        self._append(struct.pack('<' + fmt, value), struct.calcsize(fmt))

    def boolean(self, value: bool) -> None:
        """Write a bool (one byte, 0 or 1)."""
        self._pack('?', bool(value))

    def uint8(self, value: int) -> None:
        """Write a uint8."""
        self._pack('B', check_int('uint8', value, 'uint8'))

    def int32(self, value: int) -> None:
        """Write an int32."""
        self._pack('i', check_int('int32', value, 'int32'))

    def uint32(self, value: int) -> None:
        """Write a uint32."""
        self._pack('I', check_int('uint32', value, 'uint32'))

    def float32(self, value: float) -> None:
        """Write a float32, ``value`` rounded to the nearest one."""
        self._pack('f', value)

    def float64(self, value: float) -> None:
        """Write a float64."""
        self._pack('d', value)

    def string(self, text: str) -> None:
        """
        Write a string: uint32 length (NUL included), UTF-8 bytes, NUL.

        :raises ShapeError: when ``text`` contains a NUL character.
        """
        data = text.encode('utf-8')
        if b'\x00' in data:
            raise ShapeError(f'string: expected no NUL characters, got {text!r}')
        self.uint32(len(data) + 1)
        self._append(data + b'\x00', 1)

    def header(self, stamp_ns: int, frame_id: str) -> None:
        """Write a std_msgs/Header: builtin_interfaces/Time (int32 sec, uint32 nanosec), frame."""
        sec, nanosec = ns_to_stamp(stamp_ns)
        self.int32(sec)
        self.uint32(nanosec)
        self.string(frame_id)

    def array(self, values: np.ndarray, dtype: npt.DTypeLike) -> None:
        """
        Write the elements of ``values`` as primitives of ``dtype``, row-major, with no count.

        This is a fixed-size array field, or the body of a sequence: a run of ``values.size``
        primitives aligned to the item size. ``values`` is cast (copied) only if its dtype,
        byte order or layout differ.
        """
        data = np.ascontiguousarray(values, dtype=_little_endian(dtype))
        if data.size:
            self._append(data.data.cast('B'), data.dtype.itemsize)

    def sequence(self, values: np.ndarray, dtype: npt.DTypeLike) -> None:
        """
        Write a sequence with one element per row of ``values`` (shape ``(N, ...)``).

        Each element is ``values[i]`` as primitives of ``dtype``: a scalar for ``float32[]``
        (``values`` of shape (N,)), or a message of equal-typed fields for ``Point[]``
        (shape (N, 3), float64) or ``ColorRGBA[]`` ((N, 4), float32). Such messages have no
        inner padding, so the elements are one contiguous run.
        """
        values = np.asarray(values)
        if values.ndim == 0:
            raise ShapeError(f'sequence: expected an array of shape (N, ...), got {values!r}')
        self.uint32(values.shape[0])
        self.array(values, dtype)

    def bytes(self) -> bytes:  # noqa: A003 (the name the callers read best; no shadowing)
        """Return the serialised message, encapsulation header included."""
        return b''.join(self._parts)


class CdrReader:
    """Reads one serialised message field by field; the counterpart of :class:`CdrWriter`."""

    def __init__(self, blob: bytes | bytearray | memoryview) -> None:
        """
        Start reading ``blob`` after its encapsulation header.

        :raises ShapeError: when ``blob`` does not start with the little-endian CDR header.
        """
        self._view = memoryview(blob).cast('B')
        if bytes(self._view[:4]) != ENCAPSULATION:
            raise ShapeError(f'blob: expected the CDR little-endian header '
                             f'{ENCAPSULATION.hex(" ")}, got {bytes(self._view[:4]).hex(" ")}')
        self._pos = len(ENCAPSULATION)

    def _take(self, size: int, alignment: int) -> memoryview:
        start = self._pos + (-(self._pos - len(ENCAPSULATION)) % alignment)
        end = start + size
        if end > len(self._view):
            raise ShapeError(f'blob: expected at least {end} bytes, got {len(self._view)}')
        self._pos = end
        return self._view[start:end]

    def _unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        return struct.unpack('<' + fmt, self._take(size, size))[0]

    def boolean(self) -> bool:
        """Read a bool."""
        return self._unpack('?')

    def uint8(self) -> int:
        """Read a uint8."""
        return self._unpack('B')

    def int32(self) -> int:
        """Read an int32."""
        return self._unpack('i')

    def uint32(self) -> int:
        """Read a uint32."""
        return self._unpack('I')

    def float32(self) -> float:
        """Read a float32."""
        return self._unpack('f')

    def float64(self) -> float:
        """Read a float64."""
        return self._unpack('d')

    def string(self) -> str:
        """
        Read a string.

        :raises ShapeError: when its length is 0 or it does not end with a NUL.
        """
        size = self.uint32()
        data = bytes(self._take(size, 1))
        if not data.endswith(b'\x00'):
            raise ShapeError(f'string: expected a NUL-terminated string, got {data!r}')
        return data[:-1].decode('utf-8')

    def header(self) -> tuple[int, str]:
        """Read a std_msgs/Header; return ``(stamp_ns, frame_id)``."""
        sec = self.int32()
        nanosec = self.uint32()
        return stamp_to_ns(sec, nanosec), self.string()

    def array(self, dtype: npt.DTypeLike, count: int) -> np.ndarray:
        """Read ``count`` primitives of ``dtype``: a read-only (count,) view into the blob."""
        dtype = _little_endian(dtype)
        if count == 0:
            return np.empty(0, dtype)
        data = self._take(count * dtype.itemsize, dtype.itemsize)
        return np.frombuffer(data, dtype=dtype)

    def sequence(self, dtype: npt.DTypeLike, width: int | None = None) -> np.ndarray:
        """
        Read a sequence of primitives of ``dtype``, or of messages of ``width`` such fields.

        :return: a read-only view into the blob, shape (N,), or (N, width) when ``width`` is
            given.
        """
        count = self.uint32()
        if width is None:
            return self.array(dtype, count)
        return self.array(dtype, count * width).reshape(count, width)
