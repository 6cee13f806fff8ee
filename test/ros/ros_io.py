"""Spinning and round trips shared by the ROS tests: real executors, real topics."""

import time

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy

TIMEOUT_S = 10.0
QOS = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=10,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.VOLATILE,
)


def spin_until(executor, condition, what, timeout_s=TIMEOUT_S, period_s=0.05):
    """Spin ``executor`` until ``condition()`` is true; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f'timed out after {timeout_s} s waiting for {what}')
        executor.spin_once(timeout_sec=period_s)


def round_trip(context, name, msg_type, message):
    """Publish ``message`` on a fresh topic and return the first message received on it."""
    node = rclpy.create_node(f'round_trip_{name}', context=context)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    received = []
    topic = f'/lim_ros_test/{name}'
    try:
        node.create_subscription(msg_type, topic, received.append, QOS)
        publisher = node.create_publisher(msg_type, topic, QOS)
        spin_until(executor, lambda: publisher.get_subscription_count() > 0,
                   f'the subscription on {topic} to match')
        publisher.publish(message)
        spin_until(executor, lambda: received, f'a {msg_type.__name__} on {topic}')
    finally:
        executor.shutdown()
        node.destroy_node()
    return received[0]
