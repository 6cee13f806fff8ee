"""The node's counters and the DiagnosticStatus made from them."""

import threading

from lim_ros.engine import EngineConfig, ReconstructionEngine
from lim_ros.ros.diagnostics import device_memory, DiagnosticsReporter, ERROR_KINDS, NodeCounters
import pytest
import torch


def test_counters_are_thread_safe_and_snapshot_copies():
    counters = NodeCounters()

    def work():
        for _ in range(1000):
            counters.error('bad_image')
            counters.add(queue_drops=1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    snapshot = counters.snapshot()
    assert snapshot.errors['bad_image'] == 4000 and snapshot.queue_drops == 4000
    counters.error('stamp')
    assert snapshot.errors['stamp'] == 0 and snapshot.total_errors == 4000
    with pytest.raises(KeyError):
        counters.error('no_such_kind')


@pytest.fixture(scope='module')
def engine():
    torch.set_num_threads(1)
    return ReconstructionEngine(EngineConfig())


def test_status_levels_values_and_rates(engine):
    counters = NodeCounters()
    reporter = DiagnosticsReporter('lim_node', '/ns/lim_node', 'cpu')
    first = reporter.status(counters, engine, 100.0)
    values = {kv.key: kv.value for kv in first.values}
    assert first.name == 'lim_node: reconstruction' and first.level == first.OK
    assert first.hardware_id == 'cpu' and values['node'] == '/ns/lim_node'
    assert values['keyframes in buffer'] == '0' and values['buffer span (s)'] == '0.000'
    assert all(f'errors: {kind}' in values for kind in ERROR_KINDS)
    assert 'device memory (MiB, process RSS)' in values

    counters.add(keyframes=4, outputs=20)
    counters.error('bad_image')
    counters.error('bad_image')
    second = reporter.status(counters, engine, 102.0)
    values = {kv.key: kv.value for kv in second.values}
    assert second.level == second.WARN and 'bad_image 2' in second.message
    assert values['keyframe rate achieved (Hz)'] == '2.00'
    assert values['publish rate achieved (Hz)'] == '10.00'
    assert values['errors: bad_image'] == '2'

    third = reporter.status(counters, engine, 103.0)
    assert third.level == third.OK  # no new errors since the last report


def test_device_memory_on_cpu():
    what, mib = device_memory(torch.device('cpu'))
    assert 'RSS' in what and mib > 10
