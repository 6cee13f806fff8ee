"""
Typed errors raised at lim_ros's public boundaries.

Every error names what was wrong (the argument or field), what was expected and what was
found, so a log line alone is enough to fix the input.
"""


class LimError(Exception):
    """Base class of every error lim_ros raises on purpose."""


class ShapeError(LimError, ValueError):
    """An array or tensor has the wrong shape, dtype or values (NaN, empty, out of range)."""


class ConfigError(LimError, ValueError):
    """A configuration value or parameter is invalid."""


class CheckpointError(LimError):
    """A checkpoint file is missing, corrupt or does not match the expected model."""


def check_shape(name: str, actual: tuple[int, ...], expected: tuple[int | None, ...]) -> None:
    """Raise ShapeError unless `actual` matches `expected` (None matches any size)."""
    ok = len(actual) == len(expected) and all(
        e is None or a == e for a, e in zip(actual, expected)
    )
    if not ok:
        pretty = tuple('*' if e is None else e for e in expected)
        raise ShapeError(f'{name}: expected shape {pretty}, got {tuple(actual)}')


class StampError(LimError, ValueError):
    """A timestamp is invalid, repeated, or outside the keyframe buffer."""


class BagError(LimError):
    """A rosbag cannot be read or written, or holds nothing that can be processed."""
