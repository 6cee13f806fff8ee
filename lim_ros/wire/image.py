"""
Camera images to RGB arrays, and RGB arrays to sensor_msgs/Image bytes, with NumPy.

Convention: an image is a (H, W, 3) uint8 RGB array, row 0 at the top, as sensor_msgs/Image
stores it. Raw images are read with ``np.frombuffer`` honouring ``step`` (rows may be
padded), from whatever ``data`` the client library hands over: bytes, bytearray,
memoryview, array.array (rclpy) or a uint8 NumPy array (rosbags). mono16 is scaled linearly
to 8 bits (65535 -> 255, rounded), with no contrast stretch. Compressed images (JPEG, PNG)
are decoded by Pillow. Images with a side over ``MAX_IMAGE_SIDE`` are refused before their
pixels are copied or decompressed (a wrong message, or a decompression bomb).
"""

import io
from typing import Any

from lim_ros.errors import check_shape, ShapeError
from lim_ros.wire.cdr import CdrWriter, check_int
import numpy as np
from PIL import Image, UnidentifiedImageError
from PIL.Image import DecompressionBombError

# encoding: (bytes per pixel, the channels giving R, G, B; mono's one channel is broadcast)
ENCODINGS = {
    'rgb8': (3, slice(0, 3)),
    'bgr8': (3, slice(2, None, -1)),
    'rgba8': (4, slice(0, 3)),
    'bgra8': (4, slice(2, None, -1)),
    'mono8': (1, slice(0, 1)),
    'mono16': (2, slice(0, 1)),
}
OUTPUT_ENCODINGS = ('rgb8', 'bgr8')
CODECS = {'jpeg': 'JPEG', 'jpg': 'JPEG', 'png': 'PNG'}  # format token: Pillow's format name
# Pillow modes holding 8-bit samples; others (16-bit, int32, float) would be clipped.
EIGHT_BIT_MODES = ('1', 'L', 'LA', 'P', 'PA', 'RGB', 'RGBA', 'RGBX', 'CMYK', 'YCbCr')
MAX_IMAGE_SIDE = 8192  # pixels: larger images are refused, not resized (a wrong message)


def _check_sides(height: int, width: int) -> None:
    """Raise ShapeError if ``height`` or ``width`` exceeds ``MAX_IMAGE_SIDE``."""
    if max(height, width) > MAX_IMAGE_SIDE:
        raise ShapeError(f'height, width: expected at most {MAX_IMAGE_SIDE} px a side, got '
                         f'{height}x{width}')


def _undecodable(codec: str, buffer: np.ndarray, error: Exception) -> ShapeError:
    """Return the error for ``buffer``, which Pillow could not decode as ``codec``."""
    return ShapeError(f'data: expected a valid {codec} image, decoding {buffer.size} bytes '
                      f'failed: {error}')


def _byte_buffer(data: Any) -> np.ndarray:
    """Return ``data`` as a flat uint8 array (a copy only of a non-contiguous array)."""
    if isinstance(data, np.ndarray):
        if data.dtype != np.uint8:
            raise ShapeError(f'data: expected uint8 bytes, got a {data.dtype} array')
        return data.reshape(-1)
    try:
        return np.frombuffer(data, np.uint8)
    except TypeError as error:
        raise ShapeError(f'data: expected a bytes-like object, got {type(data).__name__}'
                         ) from error


def decode_image(encoding: str, height: int, width: int, step: int, data: object,
                 is_bigendian: int | bool) -> np.ndarray:
    """
    Convert the fields of a sensor_msgs/Image to a (height, width, 3) uint8 RGB array.

    :param encoding: one of ``ENCODINGS`` (rgb8, bgr8, rgba8, bgra8, mono8, mono16); alpha
        is dropped, mono is repeated into R, G and B.
    :param step: bytes per row, at least ``width`` x bytes per pixel (extra bytes are row
        padding and are skipped).
    :param data: at least ``step * height`` bytes.
    :param is_bigendian: byte order of mono16 samples (ignored by 8-bit encodings).
    :return: a new C-contiguous array (it does not share memory with ``data``).
    :raises ShapeError: naming the field, for an unsupported encoding, zero, negative or
        huge (over ``MAX_IMAGE_SIDE``) sizes, a short ``step`` or short ``data``.
    """
    if encoding not in ENCODINGS:
        raise ShapeError(f'encoding: expected one of {", ".join(ENCODINGS)}, got {encoding!r}')
    pixel_bytes, channels = ENCODINGS[encoding]
    for name, value in (('height', height), ('width', width)):
        if check_int(name, value, 'uint32') == 0:
            raise ShapeError(f'{name}: expected at least 1 pixel, got 0')
    _check_sides(height, width)
    row_bytes = width * pixel_bytes
    if check_int('step', step, 'uint32') < row_bytes:
        raise ShapeError(f'step: expected at least width x {pixel_bytes} = {row_bytes} bytes '
                         f'for {encoding}, got {step}')
    if is_bigendian not in (0, 1):
        raise ShapeError(f'is_bigendian: expected 0 or 1, got {is_bigendian!r}')
    buffer = _byte_buffer(data)
    if buffer.size < step * height:
        raise ShapeError(f'data: expected at least step x height = {step * height} bytes, '
                         f'got {buffer.size}')
    rows = buffer[:step * height].reshape(height, step)[:, :row_bytes]
    if encoding == 'mono16':
        samples = rows.view('>u2' if is_bigendian else '<u2').astype(np.uint32)
        rows = ((samples * 255 + 32767) // 65535).astype(np.uint8)
    rgb = np.empty((height, width, 3), np.uint8)
    rgb[...] = rows.reshape(height, width, -1)[..., channels]
    return rgb


def _codec(image_format: str) -> str:
    """Return the codec ('jpeg', 'jpg', 'png') named by a CompressedImage format string."""
    tokens = image_format.lower().replace(';', ' ').split()
    codecs = [token for token in tokens if token in CODECS]
    if 'compresseddepth' in tokens or not (codecs or not tokens):
        raise ShapeError(f'format: expected a jpeg or png CompressedImage format such as '
                         f"'rgb8; jpeg compressed bgr8', got {image_format!r}")
    return codecs[0] if codecs else 'jpeg'  # an empty format means jpeg (CompressedImage.msg)


def decode_compressed(image_format: str, data: object) -> np.ndarray:
    """
    Decode the ``format`` and ``data`` of a sensor_msgs/CompressedImage to (H, W, 3) uint8 RGB.

    :param image_format: the message's ``format``: it must name jpeg or png (or be empty,
        which CompressedImage.msg defines as jpeg); compressedDepth is not supported.
    :param data: the encoded image (bytes-like or a uint8 array).
    :raises ShapeError: for an unsupported format, data that is not a decodable image of
        that codec, an image with a side over ``MAX_IMAGE_SIDE`` (checked before decoding)
        or with more than 8 bits a sample.
    """
    codec = _codec(image_format)
    buffer = _byte_buffer(data)
    try:
        # the header only: sizes before pixels. The ignore: numpy's stubs declare ndarray's
        # buffer protocol (__buffer__) only for Python >= 3.12
        image = Image.open(io.BytesIO(buffer))  # type: ignore[arg-type]
    except DecompressionBombError as error:  # Pillow's own bound, above ours
        raise ShapeError(f'data: expected a {codec} image of at most {MAX_IMAGE_SIDE} px a '
                         f'side, got one too large to decode: {error}') from error
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise _undecodable(codec, buffer, error) from error
    with image:
        _check_sides(image.height, image.width)
        try:
            image.load()
        except (OSError, SyntaxError, ValueError) as error:
            raise _undecodable(codec, buffer, error) from error
        if image.format != CODECS[codec]:
            raise ShapeError(f'data: expected a {codec} image (format {image_format!r}), got '
                             f'{image.format}')
        if image.mode not in EIGHT_BIT_MODES:
            raise ShapeError(f'data: expected an image with 8-bit samples, got Pillow mode '
                             f'{image.mode}')
        return np.array(image.convert('RGB'), dtype=np.uint8)


def encode_image_cdr(rgb: np.ndarray, stamp_ns: int, frame_id: str,
                     encoding: str = 'rgb8') -> bytes:
    """
    Serialise a sensor_msgs/Image of the (H, W, 3) uint8 RGB array ``rgb``.

    :param encoding: 'rgb8' or 'bgr8' (channels reversed on the wire); rows are unpadded
        (step = 3 W), little-endian.
    :return: the CDR bytes, encapsulation header included.
    :raises ShapeError: for another encoding, dtype or shape, or an empty image.
    """
    if encoding not in OUTPUT_ENCODINGS:
        raise ShapeError(f'encoding: expected one of {", ".join(OUTPUT_ENCODINGS)}, '
                         f'got {encoding!r}')
    image = np.asarray(rgb)
    if image.dtype != np.uint8:
        raise ShapeError(f'rgb: expected dtype uint8, got {image.dtype}')
    check_shape('rgb', image.shape, (None, None, 3))
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise ShapeError(f'rgb: expected at least 1 x 1 pixels, got shape {image.shape}')
    pixels = image if encoding == 'rgb8' else image[..., ::-1]

    writer = CdrWriter()
    writer.header(stamp_ns, frame_id)
    writer.uint32(height)
    writer.uint32(width)
    writer.string(encoding)
    writer.uint8(0)  # is_bigendian
    writer.uint32(3 * width)  # step
    writer.sequence(pixels.reshape(-1), np.uint8)
    return writer.bytes()
