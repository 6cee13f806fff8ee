"""
Fixtures shared by lim_ros's tests.

``ros_context`` gives the tests that use it one initialised rclpy context for the session
(those tests get the ``ros`` marker automatically); ``node_suffix`` makes node and topic
names unique, so tests, and runs sharing a ROS domain, never hear each other.
"""

import itertools
import os
import uuid

import pytest

_suffix_counter = itertools.count()


def pytest_collection_modifyitems(items):
    """Mark every test that uses ``ros_context`` with ``ros`` (select with ``-m ros``)."""
    for item in items:
        if 'ros_context' in getattr(item, 'fixturenames', ()):
            item.add_marker(pytest.mark.ros)


@pytest.fixture(scope='session')
def ros_context():
    """
    Yield an initialised rclpy ``Context``; shut it down when the session ends.

    Nothing is skipped: where rclpy does not work, the tests that use this fixture fail.
    rclpy installs no signal handlers, so Ctrl-C still stops pytest.
    """
    import rclpy
    from rclpy.context import Context
    from rclpy.signals import SignalHandlerOptions

    context = Context()
    rclpy.init(args=[], context=context, signal_handler_options=SignalHandlerOptions.NO)
    try:
        yield context
    finally:
        rclpy.try_shutdown(context=context)


@pytest.fixture
def node_suffix():
    """Return a fresh suffix such as ``p1234_0_1a2b3c4d`` for node and topic names."""
    return f'p{os.getpid()}_{next(_suffix_counter)}_{uuid.uuid4().hex[:8]}'
