"""
Fixtures of the bag tests: one small scene bag (`bag.bags.SCENE`) for the session.

Torch runs on one thread in these tests.
"""

from bag.bags import SCENE
from lim_ros.bag import write_scene_bag
from lim_ros.stream.settings import NodeSettings, settings_from_values
import pytest
import torch


@pytest.fixture(scope='module', autouse=True)
def one_thread():
    """Run torch on one thread (the test machines share few cores), restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def params() -> NodeSettings:
    """Return the node's defaults, lighter: mesh 48^3, 5000 points, 128^2 track texture."""
    return settings_from_values({'mesh_resolution': 48, 'num_points': 5000,
                                 'track_texture_size': 128})


@pytest.fixture(scope='session')
def scene_bag(tmp_path_factory, params):
    """Return the path and frame stamps of the session's scene bag (sqlite3)."""
    path = tmp_path_factory.mktemp('scene') / 'scene_bag'
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        stamps = write_scene_bag(SCENE, params.stream, path)
    finally:
        torch.set_num_threads(threads)
    return path, stamps
