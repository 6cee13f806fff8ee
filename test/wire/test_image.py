"""decode_image, decode_compressed and encode_image_cdr: exact pixels, real messages, errors."""

import array
import io

from lim_ros.errors import ShapeError
from lim_ros.wire.image import decode_compressed, decode_image, encode_image_cdr, ENCODINGS
import numpy as np
from PIL import Image
import pytest
from wire.messages import assert_matches_rclpy, header, msg, rosbags_cdr, TYPESTORE

HEIGHT, WIDTH, PAD = 5, 7, 3  # odd sizes and 3 padding bytes a row: alignment bugs show
PAD_BYTE = 0xEE


def _source(seed=0):
    """Return (rgb, alpha, mono8, mono16) test pixels of HEIGHT x WIDTH."""
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8)
    alpha = rng.integers(0, 256, (HEIGHT, WIDTH, 1), np.uint8)
    mono8 = rng.integers(0, 256, (HEIGHT, WIDTH), np.uint8)
    mono16 = mono8.astype(np.uint16) * 257  # k * 257 scales to exactly k
    return rgb, alpha, mono8, mono16


def _encoded(encoding, is_bigendian=0):
    """Return (padded row bytes, step, expected RGB) of the test image in ``encoding``."""
    rgb, alpha, mono8, mono16 = _source()
    pixels, expected = {
        'rgb8': (rgb, rgb),
        'bgr8': (rgb[..., ::-1], rgb),
        'rgba8': (np.concatenate([rgb, alpha], axis=2), rgb),
        'bgra8': (np.concatenate([rgb[..., ::-1], alpha], axis=2), rgb),
        'mono8': (mono8, np.repeat(mono8[..., None], 3, axis=2)),
        'mono16': (mono16.astype('>u2' if is_bigendian else '<u2'),
                   np.repeat(mono8[..., None], 3, axis=2)),
    }[encoding]
    rows = pixels.reshape(HEIGHT, -1).view(np.uint8).reshape(HEIGHT, -1)
    padded = np.concatenate([rows, np.full((HEIGHT, PAD), PAD_BYTE, np.uint8)], axis=1)
    return padded.tobytes(), padded.shape[1], expected


CASES = [(encoding, 0) for encoding in ENCODINGS] + [('mono16', 1)]


@pytest.mark.parametrize('encoding, is_bigendian', CASES)
@pytest.mark.parametrize('container', [bytes, bytearray, memoryview,
                                       lambda data: array.array('B', data),
                                       lambda data: np.frombuffer(data, np.uint8)])
def test_decode_every_encoding_and_container(encoding, is_bigendian, container):
    data, step, expected = _encoded(encoding, is_bigendian)
    assert step > WIDTH * ENCODINGS[encoding][0]
    decoded = decode_image(encoding, HEIGHT, WIDTH, step, container(data), is_bigendian)
    assert decoded.dtype == np.uint8 and decoded.flags.c_contiguous
    np.testing.assert_array_equal(decoded, expected)


@pytest.mark.ros
@pytest.mark.parametrize('encoding, is_bigendian', CASES)
def test_decode_rclpy_image(encoding, is_bigendian):
    from sensor_msgs.msg import Image as ImageMsg

    data, step, expected = _encoded(encoding, is_bigendian)
    message = ImageMsg(height=HEIGHT, width=WIDTH, encoding=encoding,
                       is_bigendian=is_bigendian, step=step, data=data)
    decoded = decode_image(message.encoding, message.height, message.width, message.step,
                           message.data, message.is_bigendian)
    np.testing.assert_array_equal(decoded, expected)


def test_mono16_scaling_rounds():
    samples = np.array([[0, 128, 129, 257, 32767, 65535]], '<u2')
    decoded = decode_image('mono16', 1, 6, 12, samples.tobytes(), 0)
    np.testing.assert_array_equal(decoded[0, :, 0], [0, 0, 1, 1, 127, 255])
    np.testing.assert_array_equal(decoded[..., 0], decoded[..., 2])
    swapped = decode_image('mono16', 1, 6, 12, samples.astype('>u2').tobytes(), 1)
    np.testing.assert_array_equal(swapped, decoded)


def _image_description(rgb, stamp_ns, frame_id, encoding):
    pixels = rgb if encoding == 'rgb8' else rgb[..., ::-1]
    return msg('sensor_msgs/msg/Image', header=header(stamp_ns, frame_id),
               height=rgb.shape[0], width=rgb.shape[1], encoding=encoding, is_bigendian=0,
               step=3 * rgb.shape[1], data=np.ascontiguousarray(pixels).reshape(-1))


ENCODE_CASES = [(frame_id, encoding) for frame_id in ('', 'a', 'ab', 'abc', 'abcd', 'abcde')
                for encoding in ('rgb8', 'bgr8')]


@pytest.mark.parametrize('frame_id, encoding', ENCODE_CASES)
def test_encode_matches_rosbags_and_round_trips(frame_id, encoding):
    rgb = _source()[0]
    blob = encode_image_cdr(rgb, 1_700_000_000_000_000_007, frame_id, encoding)
    assert blob == rosbags_cdr(_image_description(rgb, 1_700_000_000_000_000_007, frame_id,
                                                  encoding))
    message = TYPESTORE.deserialize_cdr(blob, 'sensor_msgs/msg/Image')
    decoded = decode_image(message.encoding, message.height, message.width, message.step,
                           message.data, message.is_bigendian)
    np.testing.assert_array_equal(decoded, rgb)


@pytest.mark.ros
@pytest.mark.parametrize('frame_id, encoding', ENCODE_CASES)
def test_encode_matches_rclpy(frame_id, encoding):
    rgb = _source()[0]
    assert_matches_rclpy(encode_image_cdr(rgb, 42, frame_id, encoding),
                         _image_description(rgb, 42, frame_id, encoding))


def _compressed(mode, codec, **options):
    """Return (encoded bytes, RGB pixels encoded) of a smooth colour ramp in ``mode``."""
    rows, cols = np.mgrid[0:2 * HEIGHT, 0:2 * WIDTH]
    rgb = np.stack([rows * 20, cols * 15, 200 - rows * 5 - cols * 5], axis=2).astype(np.uint8)
    image = Image.fromarray(rgb).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=codec, **options)
    return buffer.getvalue(), np.asarray(image.convert('RGB'))


@pytest.mark.parametrize('mode', ['RGB', 'RGBA', 'L', 'P'])
@pytest.mark.parametrize('image_format', ['png', 'rgb8; png compressed bgr8'])
def test_decode_png_is_exact(mode, image_format):
    data, expected = _compressed(mode, 'PNG')
    decoded = decode_compressed(image_format, data)
    assert decoded.dtype == np.uint8 and decoded.shape == (2 * HEIGHT, 2 * WIDTH, 3)
    np.testing.assert_array_equal(decoded, expected)
    np.testing.assert_array_equal(decode_compressed(image_format, np.frombuffer(data, np.uint8)),
                                  expected)


@pytest.mark.parametrize('image_format', ['jpeg', 'bgr8; jpeg compressed bgr8', 'jpg', ''])
@pytest.mark.parametrize('mode', ['RGB', 'L'])
def test_decode_jpeg(image_format, mode):
    data, source = _compressed(mode, 'JPEG', quality=95)
    decoded = decode_compressed(image_format, data)
    expected = np.asarray(Image.open(io.BytesIO(data)).convert('RGB'))
    np.testing.assert_array_equal(decoded, expected)
    assert np.abs(decoded.astype(int) - source).mean() < 3


@pytest.mark.parametrize('args, match', [
    (('yuv422', HEIGHT, WIDTH, 3 * WIDTH, bytes(3 * WIDTH * HEIGHT), 0),
     'encoding: expected one of rgb8, bgr8, rgba8, bgra8, mono8, mono16, got .yuv422.'),
    (('rgb8', 0, WIDTH, 3 * WIDTH, b'', 0), 'height: expected at least 1 pixel, got 0'),
    (('rgb8', HEIGHT, 0, 0, b'', 0), 'width: expected at least 1 pixel, got 0'),
    (('rgb8', -1, WIDTH, 3 * WIDTH, b'', 0), 'height: expected an integer of type uint32'),
    (('rgba8', HEIGHT, WIDTH, 4 * WIDTH - 1, bytes(4 * WIDTH * HEIGHT), 0),
     r'step: expected at least width x 4 = 28 bytes for rgba8, got 27'),
    (('mono16', HEIGHT, WIDTH, 2 * WIDTH, bytes(2 * WIDTH * HEIGHT - 1), 0),
     r'data: expected at least step x height = 70 bytes, got 69'),
    (('mono8', HEIGHT, WIDTH, WIDTH, np.zeros(WIDTH * HEIGHT, np.float32), 0),
     'data: expected uint8 bytes, got a float32 array'),
    (('mono8', HEIGHT, WIDTH, WIDTH, [0] * (WIDTH * HEIGHT), 0),
     'data: expected a bytes-like object, got list'),
    (('mono8', HEIGHT, WIDTH, WIDTH, bytes(WIDTH * HEIGHT), 2),
     'is_bigendian: expected 0 or 1, got 2'),
    (('rgb8', 1, 9000, 27000, bytes(27000), 0),
     'height, width: expected at most 8192 px a side, got 1x9000'),
])
def test_decode_image_errors(args, match):
    with pytest.raises(ShapeError, match=match):
        decode_image(*args)


def test_decode_compressed_errors():
    png, _ = _compressed('RGB', 'PNG')
    with pytest.raises(ShapeError, match='format: expected a jpeg or png'):
        decode_compressed('tiff', png)
    with pytest.raises(ShapeError, match='format: expected a jpeg or png'):
        decode_compressed('16UC1; compressedDepth png', png)
    with pytest.raises(ShapeError, match='data: expected a valid png image'):
        decode_compressed('png', png[: len(png) // 2])
    with pytest.raises(ShapeError, match='data: expected a valid jpeg image'):
        decode_compressed('jpeg', b'\xff\xd8 not really a jpeg')
    with pytest.raises(ShapeError, match='data: expected a jpeg image .* got PNG'):
        decode_compressed('jpeg', png)
    buffer = io.BytesIO()
    Image.fromarray(np.full((2, 3), 40000, np.uint16)).save(buffer, format='PNG')
    with pytest.raises(ShapeError, match='data: expected an image with 8-bit samples'):
        decode_compressed('png', buffer.getvalue())


@pytest.mark.parametrize('mode, size, match', [
    ('L', (9000, 16), 'height, width: expected at most 8192 px a side, got 16x9000'),
    # 2e8 pixels in 24 kB: over Pillow's decompression-bomb bound, refused when opened
    ('1', (20000, 10000), 'data: expected a png image of at most 8192 px a side, got one too '
     'large to decode'),
])
def test_huge_compressed_images_are_refused_before_decoding(mode, size, match):
    buffer = io.BytesIO()
    Image.new(mode, size).save(buffer, format='PNG')
    with pytest.raises(ShapeError, match=match):
        decode_compressed('png', buffer.getvalue())


@pytest.mark.parametrize('rgb, encoding, match', [
    (np.zeros((2, 2, 3), np.uint8), 'mono8', 'encoding: expected one of rgb8, bgr8'),
    (np.zeros((2, 2, 3), np.float32), 'rgb8', 'rgb: expected dtype uint8, got float32'),
    (np.zeros((2, 2, 4), np.uint8), 'rgb8', "rgb: expected shape \\('\\*', '\\*', 3\\)"),
    (np.zeros((0, 2, 3), np.uint8), 'rgb8', 'rgb: expected at least 1 x 1 pixels'),
])
def test_encode_errors(rgb, encoding, match):
    with pytest.raises(ShapeError, match=match):
        encode_image_cdr(rgb, 0, 'camera', encoding)
