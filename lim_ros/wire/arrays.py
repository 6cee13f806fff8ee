"""
Validation of the NumPy arrays the message writers take: coordinates, faces and colours.

Each check raises ShapeError naming the argument, the expected and the actual value, and
returns the array in the dtype the wire format needs. Nothing is clamped.
"""

from lim_ros.errors import check_shape, ShapeError
import numpy as np
import numpy.typing as npt


def real_rows(name: str, value: object, num_rows: int | None, width: int,
              dtype: npt.DTypeLike) -> np.ndarray:
    """
    Return ``value`` as a finite (num_rows, width) array of ``dtype``.

    :param num_rows: the required number of rows, or None for any.
    :raises ShapeError: for a non-real dtype, a wrong shape, or NaN / inf (also after the
        cast, so float64 values that overflow float32 are caught).
    """
    array = np.asarray(value)
    if array.dtype.kind not in 'fiu':
        raise ShapeError(f'{name}: expected real numbers, got dtype {array.dtype}')
    check_shape(name, array.shape, (num_rows, width))
    with np.errstate(over='ignore'):  # an overflow becomes inf, rejected just below
        array = array.astype(dtype, copy=False)
    if not np.isfinite(array).all():
        raise ShapeError(f'{name}: expected finite values, found NaN or inf')
    return array


def face_indices(faces: object, num_vertices: int) -> np.ndarray:
    """
    Return ``faces`` as an int64 (F, 3) array of vertex indices in [0, num_vertices).

    :raises ShapeError: for a non-integer dtype, a wrong shape or an index out of range.
    """
    array = np.asarray(faces)
    if array.dtype.kind not in 'iu':
        raise ShapeError(f'faces: expected integer vertex indices, got dtype {array.dtype}')
    check_shape('faces', array.shape, (None, 3))
    if array.size and (array.min() < 0 or array.max() >= num_vertices):
        raise ShapeError(f'faces: expected indices in [0, {num_vertices}), got range '
                         f'[{array.min()}, {array.max()}]')
    return array.astype(np.int64, copy=False)


def byte_colours(colours: object, num_rows: int) -> np.ndarray:
    """
    Return ``colours`` as a uint8 (num_rows, 3) RGB array; it must already be uint8.

    :raises ShapeError: for another dtype (no silent rescaling of floats) or a wrong shape.
    """
    array = np.asarray(colours)
    if array.dtype != np.uint8:
        raise ShapeError(f'colours: expected dtype uint8 (RGB 0..255), got {array.dtype}')
    check_shape('colours', array.shape, (num_rows, 3))
    return array


def unit_colours(colours: object, num_rows: int, name: str = 'colours') -> np.ndarray:
    """
    Return ``colours`` (errors call it ``name``) as a float32 (num_rows, 3) RGB array in [0, 1].

    uint8 colours are divided by 255; float colours must already lie in [0, 1].

    :raises ShapeError: for another dtype, a wrong shape, or a float outside [0, 1] or NaN.
    """
    array = np.asarray(colours)
    if array.dtype == np.uint8:
        check_shape(name, array.shape, (num_rows, 3))
        return array.astype(np.float32) / np.float32(255)
    if array.dtype.kind != 'f':
        raise ShapeError(f'{name}: expected uint8 or float RGB, got dtype {array.dtype}')
    check_shape(name, array.shape, (num_rows, 3))
    array = array.astype(np.float32, copy=False)
    if not ((array >= 0) & (array <= 1)).all():
        raise ShapeError(f'{name}: expected float values in [0, 1], got range '
                         f'[{array.min()}, {array.max()}]')
    return array


def colour_bytes(colours: object, num_rows: int, name: str = 'colours') -> np.ndarray:
    """Return RGB ``colours`` in [0, 1] (num_rows, 3) as uint8 0..255, rounded (never clamped)."""
    return np.round(unit_colours(colours, num_rows, name) * 255.0).astype(np.uint8)
