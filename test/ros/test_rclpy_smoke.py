"""
Smoke test of real ROS 2: rclpy and Fast DDS from the ros-jazzy-* wheels.

Messages go through the middleware on real topics with RELIABLE QoS and come back unchanged:
std_msgs/String and sensor_msgs/Image within this process, and std_msgs/String from a second
process (so discovery, serialisation and transport all work). If these fail, no other ROS
test means anything.
"""

import os
import subprocess
import sys

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from ros.ros_io import QOS, round_trip, spin_until, TIMEOUT_S
from sensor_msgs.msg import Image
from std_msgs.msg import String

pytestmark = pytest.mark.ros


# Run by a second interpreter: publish `text` on `topic` until the test's subscription has
# matched and gone away again, then exit 0 (exit 1 if that never happens within `timeout`).
PUBLISHER_SCRIPT = """
import sys
import time

import rclpy
from rclpy.qos import QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

topic, node_name, text, timeout = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
rclpy.init()
node = rclpy.create_node(node_name)
publisher = node.create_publisher(
    String, topic, QoSProfile(depth=10, reliability=ReliabilityPolicy.RELIABLE))
deadline = time.monotonic() + timeout
matched = False
while time.monotonic() < deadline:
    count = publisher.get_subscription_count()
    if count > 0:
        matched = True
        publisher.publish(String(data=text))
    elif matched:
        break
    time.sleep(0.05)
node.destroy_node()
rclpy.shutdown()
sys.exit(0 if matched else 1)
"""


def test_stringround_trip(ros_context, node_suffix):
    sent = String(data=f'lim_ros smoke {node_suffix}: héllo, wörld')
    received = round_trip(ros_context, f'string_{node_suffix}', String, sent)
    assert received.data == sent.data


def test_imageround_trip(ros_context, node_suffix):
    height, width = 48, 64
    step = width * 3 + 8  # padded rows: `step` must survive, not be recomputed
    payload = bytes((7 * i + 3) % 256 for i in range(height * step))
    sent = Image(height=height, width=width, encoding='rgb8', is_bigendian=0, step=step)
    sent.header.stamp.sec = 1_700_000_000
    sent.header.stamp.nanosec = 123_456_789
    sent.header.frame_id = 'camera_optical_frame'
    sent.data = payload

    received = round_trip(ros_context, f'image_{node_suffix}', Image, sent)

    assert (received.height, received.width) == (height, width)
    assert received.encoding == 'rgb8'
    assert received.step == step
    assert received.is_bigendian == 0
    assert bytes(received.data) == payload
    assert (received.header.stamp.sec, received.header.stamp.nanosec) == (
        1_700_000_000, 123_456_789)
    assert received.header.frame_id == 'camera_optical_frame'


def test_string_from_another_process(ros_context, node_suffix):
    topic = f'/lim_ros_test/cross_process_{node_suffix}'
    text = f'from another process {node_suffix}'
    publisher = subprocess.Popen(
        [sys.executable, '-c', PUBLISHER_SCRIPT, topic, f'smoke_pub_{node_suffix}', text,
         str(3 * TIMEOUT_S)],
        env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    node = rclpy.create_node(f'smoke_sub_{node_suffix}', context=ros_context)
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    received = []
    try:
        subscription = node.create_subscription(String, topic, received.append, QOS)
        spin_until(executor, lambda: received, f'a String from another process on {topic}',
                   timeout_s=2 * TIMEOUT_S)
        node.destroy_subscription(subscription)  # the publisher exits once it sees this
        output, _ = publisher.communicate(timeout=TIMEOUT_S)
    finally:
        executor.shutdown()
        node.destroy_node()
        if publisher.poll() is None:
            publisher.kill()
            publisher.communicate()
    assert received[0].data == text
    assert publisher.returncode == 0, f'publisher process failed:\n{output}'
