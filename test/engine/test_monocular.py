"""The engine with one camera: the LRM on the single view, or on it and generated views."""

import dataclasses

from engine.scene import camera_images, OBJECT
from lim_ros.cameras import Cameras, look_at, spherical
from lim_ros.engine import EngineConfig, ReconstructionEngine
from lim_ros.errors import ConfigError, ShapeError
from lim_ros.metrics import chamfer
from lim_ros.stream.config import StreamConfig
from lim_ros.stream.settings import NodeSettings
from lim_ros.world.families import make_object
import pytest
import torch

SECOND = 1_000_000_000
SMALL = {'mesh_resolution': 40, 'num_points': 2000}


def _one_camera(t: float):
    images, cameras = camera_images(t)
    return images[:1], cameras.select(slice(0, 1))


def _truth(t: float) -> torch.Tensor:
    return make_object(*OBJECT).surface_samples(t, 2000, torch.Generator().manual_seed(0)).points


@pytest.mark.parametrize('views', ['direct', 'generated'])
def test_one_camera_gives_geometry_near_the_truth(views):
    torch.set_num_threads(1)
    cfg = EngineConfig(input_mode='monocular', monocular_views=views, **SMALL)
    engine = ReconstructionEngine(cfg)
    assert (engine.generator is not None) == (views == 'generated')
    for t in (0.0, 0.5):
        engine.add_keyframe(int(t * SECOND), *_one_camera(t))
    cloud = engine.points(SECOND // 4)
    assert cloud.points.shape == (2000, 3)
    # measured: 0.09 direct, 0.11 generated, 0.08 with the whole 4-view rig
    assert chamfer(cloud.points, _truth(0.25)).l1 < 0.16


def test_monocular_input_refuses_several_views():
    engine = ReconstructionEngine(EngineConfig(input_mode='monocular', monocular_views='direct'))
    images, cameras = camera_images(0.0)
    with pytest.raises(ShapeError, match='input_mode monocular takes 1 view, got 4'):
        engine.add_keyframe(0, images, cameras)


def test_generated_views_need_a_camera_aimed_at_the_volume_centre():
    engine = ReconstructionEngine(EngineConfig(input_mode='monocular', **SMALL))
    images, cameras = _one_camera(0.0)
    eye = spherical(torch.tensor([45.0]), torch.tensor([20.0]), torch.tensor([3.0]))
    aside = Cameras(cameras.K, look_at(eye, torch.tensor([0.0, 0.0, 1.2])), 64, 64)
    with pytest.raises(ShapeError, match='looking at the volume centre'):
        engine.add_keyframe(0, images, aside)


def test_monocular_settings_need_exactly_one_camera():
    monocular = EngineConfig(input_mode='monocular')
    with pytest.raises(ConfigError, match='input_mode: monocular takes exactly one camera'):
        NodeSettings(engine=monocular)
    stream = StreamConfig(cameras=['cam0'], camera_poses=StreamConfig().camera_poses[:7])
    assert NodeSettings(engine=monocular, stream=stream).engine.input_mode == 'monocular'


@pytest.mark.parametrize('field, value', [
    ('input_mode', 'stereo'), ('monocular_views', 'both'), ('generator_steps', -1),
    ('generator_seed', 1.5),
])
def test_bad_monocular_fields_are_named(field, value):
    with pytest.raises(ConfigError, match=field):
        dataclasses.replace(EngineConfig(), **{field: value})
