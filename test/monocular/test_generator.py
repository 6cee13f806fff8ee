"""Tests of the multi-view generators: layouts, target cameras, local pipeline folders."""

import dataclasses
import json
from pathlib import Path

from lim_ros.cameras import Cameras, elevation_deg, look_at, orbit, random_cameras, spherical
from lim_ros.errors import CheckpointError, ConfigError, ShapeError
from lim_ros.models.checkpoint import save_checkpoint
from lim_ros.models.lrm import LRM
from lim_ros.models.multiview_diffusion import MultiViewDiffusion
from lim_ros.monocular import (
    check_orbit_camera,
    load_generator,
    load_local_pipeline,
    target_cameras,
    ViewLayout,
)
import pytest
from tiny_models import TINY_LRM, TINY_MVDIFF
import torch


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory) -> Path:
    torch.manual_seed(0)
    model = MultiViewDiffusion(TINY_MVDIFF)
    path = tmp_path_factory.mktemp('mvdiff') / 'mvdiff.safetensors'
    save_checkpoint(path, model, TINY_MVDIFF, kind='mvdiff')
    return path


@pytest.fixture(scope='module')
def prior_checkpoint(tmp_path_factory) -> Path:
    """Save a tiny model with an ``lrm_render`` prior over a tiny (untrained) LRM."""
    folder = tmp_path_factory.mktemp('mvdiff_prior')
    torch.manual_seed(0)
    save_checkpoint(folder / 'lrm.safetensors', LRM(TINY_LRM), TINY_LRM, kind='lrm')
    config = dataclasses.replace(TINY_MVDIFF, prior='lrm_render',
                                 prior_lrm=str(folder / 'lrm.safetensors'), prior_grid=16)
    save_checkpoint(folder / 'mvdiff.safetensors', MultiViewDiffusion(config), config,
                    kind='mvdiff')
    return folder / 'mvdiff.safetensors'


@pytest.fixture()
def camera() -> Cameras:
    return random_cameras(1, 32, torch.Generator().manual_seed(1))


def _view() -> torch.Tensor:
    return torch.rand(3, 32, 32, generator=torch.Generator().manual_seed(2))


def test_views_are_deterministic_per_seed_and_cameras_are_orbits(checkpoint, camera):
    generator = load_generator(checkpoint, seed=5)
    first, again = generator.generate(_view(), camera), generator.generate(_view(), camera)
    assert first.images.shape == (3, 3, 32, 32)
    assert 0.0 <= float(first.images.min()) and float(first.images.max()) <= 1.0
    assert torch.equal(first.images, again.images)  # the same noise for every frame
    assert first.prior is None  # no prior in this model
    other = load_generator(checkpoint, seed=6).generate(_view(), camera)
    assert not torch.equal(first.images, other.images)
    turned = orbit(camera, TINY_MVDIFF.offsets_deg)
    assert torch.allclose(first.cameras.world_T_cam, turned.world_T_cam)


def test_saved_pipeline_folder_loads_back_with_the_same_views(checkpoint, camera, tmp_path):
    generator = load_generator(checkpoint, seed=3)
    generator.pipe.save_pretrained(tmp_path / 'pipe')
    loaded = load_generator(tmp_path / 'pipe', seed=3)
    assert loaded.layout == generator.layout
    assert torch.equal(loaded.generate(_view(), camera).images,
                       generator.generate(_view(), camera).images)


def test_a_prior_model_comes_with_its_prior_and_keeps_it_in_a_saved_folder(
        checkpoint, prior_checkpoint, camera, tmp_path):
    assert load_generator(checkpoint).prior is None
    generator = load_generator(prior_checkpoint, seed=3)
    assert generator.prior is not None and generator.prior.grid_resolution == 16
    views = generator.generate(_view(), camera)
    assert views.images.shape == (3, 3, 32, 32)
    assert torch.equal(views.prior, generator.prior.views(_view(), camera, views.cameras))
    generator.pipe.save_pretrained(tmp_path / 'pipe')
    loaded = load_generator(tmp_path / 'pipe', seed=3)
    assert loaded.prior is not None
    assert torch.equal(loaded.generate(_view(), camera).images, views.images)
    with pytest.raises(ShapeError, match="prior 'lrm_render' needs its prior views"):
        generator.pipe(torch.rand(1, 3, 32, 32))


def test_a_prior_model_whose_lrm_is_missing_is_refused_naming_it(tmp_path):
    config = dataclasses.replace(TINY_MVDIFF, prior='lrm_render',
                                 prior_lrm='no_such_lrm.safetensors')
    save_checkpoint(tmp_path / 'mvdiff.safetensors', MultiViewDiffusion(config), config,
                    kind='mvdiff')
    with pytest.raises(CheckpointError, match='no_such_lrm.safetensors'):
        load_generator(tmp_path / 'mvdiff.safetensors')


def test_zero123_style_folder_uses_its_pipeline_module_and_layout(checkpoint, camera, tmp_path):
    folder = tmp_path / 'zero123_style'
    load_generator(checkpoint).pipe.save_pretrained(folder)
    index = json.loads((folder / 'model_index.json').read_text())
    index['_class_name'] = ['pipeline', 'MultiViewPipeline']
    (folder / 'model_index.json').write_text(json.dumps(index))
    (folder / 'pipeline.py').write_text(
        'from lim_ros.monocular.pipeline import MultiViewPipeline  # noqa: F401\n')
    with pytest.raises(CheckpointError, match='pipeline.py in the folder, which would run'):
        load_generator(folder)
    with pytest.raises(CheckpointError, match='lim_views.json: missing'):
        load_generator(folder, trust_code=True)
    layout = {'offsets_deg': [90.0, 180.0, 270.0], 'elevations_deg': [20.0, -10.0, 20.0],
              'rows': 3, 'cols': 1, 'fov_deg': 30.0, 'elevation_argument': 'elevation_deg'}
    (folder / 'lim_views.json').write_text(json.dumps(layout))
    with pytest.raises(CheckpointError, match='does not split into the layout grid 3 x 1'):
        load_generator(folder, trust_code=True).generate(_view(), camera)  # one row, ours
    layout.update(rows=1, cols=3)
    (folder / 'lim_views.json').write_text(json.dumps(layout))
    views = load_generator(folder, steps=2, trust_code=True).generate(_view(), camera)
    assert views.images.shape == (3, 3, 32, 32)
    assert torch.allclose(elevation_deg(views.cameras), torch.tensor([20.0, -10.0, 20.0]),
                          atol=1e-3)
    (folder / 'lim_views.json').write_text(json.dumps({**layout, 'rows': 2}))
    with pytest.raises(CheckpointError, match='rows, cols'):
        load_generator(folder, trust_code=True)


def test_bad_folders_are_named(tmp_path, checkpoint):
    with pytest.raises(CheckpointError, match='does not exist'):
        load_local_pipeline(tmp_path / 'missing')
    with pytest.raises(CheckpointError, match='model_index.json'):
        load_local_pipeline(tmp_path)
    load_generator(checkpoint).pipe.save_pretrained(tmp_path / 'pipe')
    for child in (tmp_path / 'pipe' / 'unet').iterdir():
        child.unlink()
    (tmp_path / 'pipe' / 'unet').rmdir()
    with pytest.raises(CheckpointError, match='without a folder: unet'):
        load_local_pipeline(tmp_path / 'pipe')
    (tmp_path / 'other').mkdir()
    (tmp_path / 'other' / 'model_index.json').write_text('{"_class_name": "UNknownPipeline"}')
    with pytest.raises(CheckpointError, match="unsupported pipeline class 'UNknownPipeline'"):
        load_local_pipeline(tmp_path / 'other')


def test_target_cameras_at_absolute_elevations_keep_distance_and_aim(camera):
    layout = ViewLayout((30.0, 90.0), elevations_deg=(20.0, -10.0), fov_deg=30.0)
    cameras = target_cameras(camera, layout)
    assert torch.allclose(elevation_deg(cameras), torch.tensor([20.0, -10.0]), atol=1e-4)
    distance = camera.centres.norm()
    assert torch.allclose(cameras.centres.norm(dim=-1), distance.expand(2), atol=1e-5)
    assert torch.allclose(cameras.world_T_cam, look_at(cameras.centres), atol=1e-5)
    assert torch.allclose(cameras.K[:, 0, 0], torch.tensor(16.0 / 0.2679492).expand(2),
                          rtol=1e-4)  # 30° over 32 px: f = 16 / tan 15°


def test_generators_refuse_a_camera_that_misses_the_centre(camera):
    eye = spherical(torch.tensor([0.0]), torch.tensor([10.0]), torch.tensor([3.0]))
    off_centre = look_at(eye, torch.tensor([0.0, 1.0, 0.0]))  # 18° beside the centre
    with pytest.raises(ShapeError, match='missing the centre by 18'):
        check_orbit_camera(Cameras(camera.K, off_centre, 32, 32))
    with pytest.raises(ShapeError, match='expected 1 camera'):
        check_orbit_camera(Cameras(camera.K.expand(2, 3, 3), off_centre.expand(2, 4, 4), 32, 32))


@pytest.mark.parametrize('fields, name', [
    ({'offsets_deg': ()}, 'offsets_deg'),
    ({'offsets_deg': (90.0,), 'elevations_deg': (1.0, 2.0)}, 'elevations_deg'),
    ({'offsets_deg': (90.0, 180.0), 'rows': 3}, 'rows, cols'),
    ({'offsets_deg': (90.0,), 'fov_deg': 200.0}, 'fov_deg'),
])
def test_bad_layouts_name_the_field(fields, name):
    with pytest.raises(ConfigError, match=name):
        ViewLayout(**fields)
