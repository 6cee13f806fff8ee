# noqa: A005 (lim_ros.wire.time is only ever imported by its full name, never as `time`)
"""
ROS time as integer nanoseconds, and its builtin_interfaces/Time form (int32 sec, uint32 nanosec).

Convention: every lim_ros interface carries time as a non-negative ``int`` of nanoseconds
since the ROS epoch; only the wire format splits it into seconds and nanoseconds.
"""

from lim_ros.errors import StampError
import numpy as np

NS_PER_S = 1_000_000_000
MAX_SEC = 2**31 - 1  # builtin_interfaces/Time.sec is an int32


def _check_int(name: str, value: object) -> int:
    """Return ``value`` as an int; raise StampError if it is not an integer (bools excluded)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise StampError(f'{name}: expected an integer, got {type(value).__name__} {value!r}')
    return int(value)


def stamp_to_ns(sec: int, nanosec: int) -> int:
    """
    Return the time ``sec`` s + ``nanosec`` ns as integer nanoseconds.

    :raises StampError: when ``sec`` is outside [0, 2^31 - 1] or ``nanosec`` outside
        [0, 10^9).
    """
    sec, nanosec = _check_int('sec', sec), _check_int('nanosec', nanosec)
    if not 0 <= sec <= MAX_SEC:
        raise StampError(f'sec: expected an integer in [0, {MAX_SEC}], got {sec}')
    if not 0 <= nanosec < NS_PER_S:
        raise StampError(f'nanosec: expected an integer in [0, {NS_PER_S}), got {nanosec}')
    return sec * NS_PER_S + nanosec


def ns_to_stamp(ns: int) -> tuple[int, int]:
    """
    Split the time ``ns`` (integer nanoseconds) into ``(sec, nanosec)``.

    :raises StampError: when ``ns`` is not an integer, is negative, or its seconds overflow
        the int32 of builtin_interfaces/Time.
    """
    ns = _check_int('stamp_ns', ns)
    if not 0 <= ns < (MAX_SEC + 1) * NS_PER_S:
        raise StampError(
            f'stamp_ns: expected an integer in [0, {(MAX_SEC + 1) * NS_PER_S}), got {ns}')
    return divmod(ns, NS_PER_S)
