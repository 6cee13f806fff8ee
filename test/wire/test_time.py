from lim_ros.errors import StampError
from lim_ros.wire.time import ns_to_stamp, stamp_to_ns
import numpy as np
import pytest


@pytest.mark.parametrize('ns, stamp', [
    (0, (0, 0)),
    (999_999_999, (0, 999_999_999)),
    (1_000_000_000, (1, 0)),
    (1_700_000_000_123_456_789, (1_700_000_000, 123_456_789)),
    ((2**31 - 1) * 10**9 + 999_999_999, (2**31 - 1, 999_999_999)),
])
def test_round_trip(ns, stamp):
    assert ns_to_stamp(ns) == stamp
    assert stamp_to_ns(*stamp) == ns
    assert ns_to_stamp(np.int64(ns)) == stamp


@pytest.mark.parametrize('ns, match', [
    (-1, 'stamp_ns'),
    (2**31 * 10**9, 'stamp_ns'),
    (1.5e9, 'stamp_ns: expected an integer'),
    (True, 'stamp_ns: expected an integer'),
])
def test_ns_to_stamp_rejects(ns, match):
    with pytest.raises(StampError, match=match):
        ns_to_stamp(ns)


@pytest.mark.parametrize('sec, nanosec, match', [
    (-1, 0, 'sec'),
    (2**31, 0, 'sec'),
    (0, -1, 'nanosec'),
    (0, 10**9, 'nanosec'),
    (0, 0.5, 'nanosec: expected an integer'),
])
def test_stamp_to_ns_rejects(sec, nanosec, match):
    with pytest.raises(StampError, match=match):
        stamp_to_ns(sec, nanosec)
