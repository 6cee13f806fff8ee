"""Fixtures of the node tests: ``lim_harness`` starts lim_node with a probe node beside it."""

import pytest
from ros.lim_harness import LimHarness


@pytest.fixture
def lim_harness(ros_context, node_suffix):
    """
    Yield a function making `LimHarness` objects, closed when the test ends.

    Call it with parameter overrides: ``lim_harness(max_keyframes=3)``.
    """
    made = []

    def make(**parameters) -> LimHarness:
        harness = LimHarness(ros_context, f'{node_suffix}_{len(made)}', **parameters)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
