"""
Camera messages to the core's frames: decoding, intrinsics and their checks, topics and QoS.

The conversions are tested on real sensor_msgs objects; the subscriptions on a real node
(topic names, QoS) and, end to end, with compressed images.
"""

import io

from lim_ros.errors import ShapeError
from lim_ros.ros.lim_node import LimNode
from lim_ros.wire.camera import camera_intrinsics, image_pixels
import numpy as np
import PIL.Image
import pytest
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy
from ros.lim_harness import image_msg, info_msg, stamp_msg
from sensor_msgs.msg import CompressedImage
import torch

K = np.array([[50.0, 0.0, 32.0], [0.0, 52.0, 30.0], [0.0, 0.0, 1.0]])


def test_intrinsics_from_camera_info():
    got = camera_intrinsics(info_msg(K, 0, 'cam0'), 64, 64)
    assert got.dtype == torch.float32 and torch.equal(got, torch.from_numpy(K).float())
    assert torch.equal(camera_intrinsics(info_msg(K, 0, 'cam0', d=()), 64, 64), got)  # empty d


@pytest.mark.parametrize('fields, match', [
    ({'width': 32}, 'expected the image size 64x64, got 64x32'),
    ({'d': (0.1, 0.0, 0.0, 0.0, 0.0)}, 'rectify first'),
])
def test_camera_info_that_does_not_fit_is_refused(fields, match):
    with pytest.raises(ShapeError, match=match):
        camera_intrinsics(info_msg(K, 0, 'cam0', **fields), 64, 64)


@pytest.mark.parametrize('bad', [0.0, float('nan')])
def test_unusable_k_is_refused(bad):
    k = K.copy()
    k[0, 0] = bad
    with pytest.raises(ShapeError, match='camera_info: expected k'):
        camera_intrinsics(info_msg(k, 0, 'cam0'), 64, 64)


def test_images_decode_to_rgb():
    rgb = np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert np.array_equal(image_pixels(image_msg(rgb, 1, 'cam0')), rgb)
    bgr = image_msg(np.ascontiguousarray(rgb[..., ::-1]), 1, 'cam0', encoding='bgr8')
    assert np.array_equal(image_pixels(bgr), rgb)
    buffer = io.BytesIO()
    PIL.Image.fromarray(rgb).save(buffer, format='PNG')
    compressed = CompressedImage(format='rgb8; png compressed rgb8', data=buffer.getvalue())
    assert np.array_equal(image_pixels(compressed), rgb)
    with pytest.raises(ShapeError, match='encoding'):
        image_pixels(image_msg(rgb, 1, 'cam0', encoding='yuv422'))


def _qos(infos):
    assert len(infos) == 1, infos
    return infos[0].qos_profile


def test_topics_and_qos(ros_context, node_suffix):
    namespace = f'/lim_test_{node_suffix}'
    node = LimNode(namespace=namespace, context=ros_context)
    try:
        image = _qos(node.get_subscriptions_info_by_topic(f'{namespace}/cam2/image_raw'))
        info = _qos(node.get_subscriptions_info_by_topic(f'{namespace}/cam2/camera_info'))
        assert image.reliability == info.reliability == ReliabilityPolicy.BEST_EFFORT
        outputs = {name: _qos(node.get_publishers_info_by_topic(f'{namespace}/lim_node/{name}'))
                   for name in ('points', 'mesh_marker', 'mesh')}
        assert all(q.reliability == ReliabilityPolicy.RELIABLE for q in outputs.values())
        assert outputs['points'].durability == DurabilityPolicy.VOLATILE
        assert outputs['mesh'].durability == outputs['mesh_marker'].durability \
            == DurabilityPolicy.TRANSIENT_LOCAL
        services = dict(node.get_service_names_and_types_by_node('lim_node', namespace))
        assert services[f'{namespace}/lim_node/query'] == ['lim_ros_msgs/srv/QueryReconstruction']
    finally:
        node.destroy_node()


def test_compressed_reliable_cameras_end_to_end(lim_harness):
    h = lim_harness(image_transport='compressed', camera_qos='reliable')
    topic = f'{h.namespace}/cam0/image_raw/compressed'
    assert _qos(h.node.get_subscriptions_info_by_topic(topic)).reliability \
        == ReliabilityPolicy.RELIABLE
    h.feed_until(lambda: h.node.counters.keyframes >= 2, 'keyframes from compressed images')
    assert h.node.counters.total_errors == 0, h.node.counters.errors


def _png(mode: str, width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    PIL.Image.new(mode, (width, height)).save(buffer, format='PNG')
    return buffer.getvalue()


def test_huge_compressed_images_are_counted_and_the_node_keeps_working(lim_harness):
    h = lim_harness(image_transport='compressed')
    errors = h.node.counters.errors
    # 24 kB holding 2e8 pixels (a decompression bomb), and a 9000 px wide image.
    for data in (_png('1', 20000, 10000), _png('L', 9000, 16)):
        message = CompressedImage(format='png', data=data)
        message.header.stamp = stamp_msg(h.now_ns())
        h.image_publishers['cam0'].publish(message)
    h.spin_until(lambda: errors['bad_image'] >= 2, 'two bad_image errors')
    assert errors['internal'] == 0, dict(errors)
    h.feed_until(lambda: h.node.counters.keyframes >= 1, 'a keyframe after huge images')
    assert h.node.counters.total_errors == 2, h.node.counters.errors
