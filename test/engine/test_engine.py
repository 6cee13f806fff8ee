"""The engine end to end with the shipped LRM: keyframes in, geometry at any stamp out."""


from engine.scene import camera_images, OBJECT
from lim_ros.cameras import Cameras
from lim_ros.engine import EngineConfig, ReconstructionEngine
from lim_ros.errors import CheckpointError, ConfigError, ShapeError, StampError
from lim_ros.metrics import chamfer
from lim_ros.models.lim import LIM
from lim_ros.world.families import make_object
import numpy as np
import pytest
from tiny_models import TINY_LIM
import torch

SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND  # a realistic ROS stamp


@pytest.fixture(scope='module')
def engine():
    torch.set_num_threads(1)
    engine = ReconstructionEngine(EngineConfig(mesh_resolution=40, num_points=3000))
    for t in (0.0, 0.5, 1.0):
        images, cameras = camera_images(t)
        engine.add_keyframe(T0 + int(t * SECOND), images, cameras)
    return engine


def truth(t: float, offset=(0.0, 0.0, 0.0)) -> torch.Tensor:
    points = make_object(*OBJECT).surface_samples(t, 3000, torch.Generator().manual_seed(0))
    return points.points + torch.tensor(offset)


def test_points_at_keyframes_and_between_are_near_the_truth(engine):
    for t in (0.0, 0.25, 0.75, 1.0):
        cloud = engine.points(T0 + int(t * SECOND))
        assert cloud.points.shape == (3000, 3) and cloud.colours.shape == (3000, 3)
        assert 0.0 <= float(cloud.colours.min()) and float(cloud.colours.max()) <= 1.0
        assert chamfer(cloud.points, truth(t)).l1 < 0.12, t


def test_keyframe_stamp_returns_its_own_triplane_and_midpoint_blends(engine):
    k0, k1 = engine.buffer.bracket(T0)[0], engine.buffer.bracket(T0 + SECOND // 2)[0]
    assert torch.equal(engine.triplane(T0), k0.planes)
    middle = engine.triplane(T0 + SECOND // 4)
    assert torch.allclose(middle, 0.5 * (k0.planes + k1.planes), atol=1e-6)


def test_mesh_is_closed_outward_and_repeated_queries_hit_the_cache(engine):
    mesh = engine.mesh(T0 + SECOND // 3)
    assert mesh.num_faces > 100 and mesh.signed_volume() > 0.0
    assert mesh.vertex_colours.shape == (mesh.num_vertices, 3)
    hits = engine.stats.cache_hits
    assert engine.mesh(T0 + SECOND // 3) is mesh
    assert engine.stats.cache_hits == hits + 1
    finer = engine.mesh(T0 + SECOND // 3, resolution=56)
    assert finer.num_faces > mesh.num_faces


def test_outside_the_buffer_is_refused_or_clamped(engine):
    with pytest.raises(StampError, match='outside the keyframe buffer'):
        engine.points(T0 - 1)
    clamped = ReconstructionEngine(EngineConfig(out_of_range='clamp', mesh_resolution=32),
                                   lrm=engine.lrm)
    images, cameras = camera_images(0.0)
    clamped.add_keyframe(T0, images, cameras)
    result = clamped.reconstruction(T0 + 5 * SECOND, count=100)
    assert result.stamp_ns == T0 and result.points.points.shape == (100, 3)


def test_clock_going_back_resets_the_buffer():
    torch.set_num_threads(1)
    engine = ReconstructionEngine(EngineConfig(mesh_resolution=32))
    images, cameras = camera_images(0.0)
    engine.add_keyframe(T0 + SECOND, images, cameras)
    engine.add_keyframe(T0 + 2 * SECOND, images, cameras)
    insertion = engine.add_keyframe(T0, images, cameras)
    assert insertion.reset and engine.span == (T0, T0) and engine.stats.buffer_resets == 1
    assert engine.buffer_status().keyframes == 1
    with pytest.raises(StampError, match='repeats'):
        engine.add_keyframe(T0, images, cameras)


def test_volume_frame_offset_moves_the_geometry():
    """Cameras and box moved by +1 m in x give the same shape, moved by +1 m."""
    torch.set_num_threads(1)
    engine = ReconstructionEngine(EngineConfig(volume_center=(1.0, 0.0, 0.0), mesh_resolution=40,
                                               num_points=3000))
    images, cameras = camera_images(0.0)
    pose = cameras.world_T_cam.clone()
    pose[:, 0, 3] += 1.0
    engine.add_keyframe(T0, images, Cameras(cameras.K, pose, cameras.height, cameras.width))
    assert chamfer(engine.points(T0).points, truth(0.0, (1.0, 0.0, 0.0))).l1 < 0.12


def test_decimation_reduces_faces(engine):
    decimated = ReconstructionEngine(EngineConfig(mesh_resolution=40, mesh_target_faces=300),
                                     lrm=engine.lrm)
    images, cameras = camera_images(0.0)
    decimated.add_keyframe(T0, images, cameras)
    full = engine.mesh(T0)
    mesh = decimated.mesh(T0)
    assert mesh.num_faces <= 330 < full.num_faces
    assert abs(mesh.signed_volume() - full.signed_volume()) < 0.1 * full.signed_volume()


def test_bad_inputs_name_what_was_wrong(engine):
    images, cameras = camera_images(0.0)
    with pytest.raises(ShapeError, match='cameras'):
        engine.add_keyframe(T0 + 3 * SECOND, images[:2], cameras)
    with pytest.raises(ShapeError, match='uint8'):
        engine.add_keyframe(T0 + 3 * SECOND, images.astype(np.float32), cameras)
    with pytest.raises(StampError, match='non-negative'):
        engine.add_keyframe(-5, images, cameras)
    for resolution in (3, 4096):
        with pytest.raises(ConfigError, match=f'mesh_resolution: .* got {resolution}'):
            engine.mesh(T0, resolution=resolution)
    assert engine.span == (T0, T0 + SECOND)  # nothing above changed the buffer


@pytest.mark.parametrize('kwargs, field', [
    ({'interpolation': 'film'}, 'interpolation'), ({'out_of_range': 'wrap'}, 'out_of_range'),
    ({'device': 'tpu'}, 'device'), ({'max_keyframes': 1}, 'max_keyframes'),
    ({'max_buffer_mb': -1.0}, 'max_buffer_mb'), ({'num_points': 0}, 'num_points'),
    ({'mesh_resolution': 4}, 'mesh_resolution'), ({'mesh_resolution': 4096}, 'mesh_resolution'),
    ({'num_points': 10**8}, 'num_points'),
])
def test_bad_config_is_refused_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        EngineConfig(**kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA device is present')
def test_cuda_without_a_device_is_refused():
    with pytest.raises(ConfigError, match='no CUDA device'):
        EngineConfig(device='cuda')


def test_missing_or_corrupt_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match='missing.safetensors'):
        ReconstructionEngine(EngineConfig(lrm_checkpoint=str(tmp_path / 'missing.safetensors')))
    corrupt = tmp_path / 'corrupt.safetensors'
    corrupt.write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointError, match='corrupt'):
        ReconstructionEngine(EngineConfig(lrm_checkpoint=str(corrupt)))


def test_lim_checkpoints_are_checked_against_the_lrm(tmp_path):
    missing = str(tmp_path / 'missing_lim.safetensors')
    with pytest.raises(CheckpointError, match='missing_lim.safetensors'):
        ReconstructionEngine(EngineConfig(interpolation='lim', lim_checkpoint=missing))
    with pytest.raises(ConfigError, match='LIM checkpoint does not fit the LRM: feature_dim 32'):
        ReconstructionEngine(EngineConfig(interpolation='lim'), lim=LIM(TINY_LIM))


def test_the_evidence_lrm_runs_in_the_engine_and_lim_moves_its_evidence():
    # shipped checkpoints named by file name alone, as in config/lim_register.yaml
    config = EngineConfig(lrm_checkpoint='lrm_evidence.safetensors', mesh_resolution=32,
                          num_points=1000, interpolation='lim',
                          lim_checkpoint='lim_base.safetensors')
    engine = ReconstructionEngine(config)
    for t in (0.0, 0.5):
        images, cameras = camera_images(t)
        engine.add_keyframe(T0 + int(t * SECOND), images, cameras)
    assert engine.triplane(T0).shape[2] == engine.lrm.config.output_channels == 32 + 6 * 48
    for t in (0.0, 0.25):
        cloud = engine.points(T0 + int(t * SECOND))
        assert chamfer(cloud.points, truth(t)).l1 < 0.12, t


def test_triplane_flow_interpolation_in_the_engine():
    engine = ReconstructionEngine(EngineConfig(mesh_resolution=32, num_points=2000,
                                               interpolation='triplane_flow'))
    for t in (0.0, 0.5):
        images, cameras = camera_images(t)
        engine.add_keyframe(T0 + int(t * SECOND), images, cameras)
    k0, k1 = engine.buffer.bracket(T0)[0], engine.buffer.bracket(T0 + SECOND // 2)[0]
    assert torch.equal(engine.triplane(T0), k0.planes)
    middle = engine.triplane(T0 + SECOND // 4)
    assert middle.shape == k0.planes.shape
    assert not torch.allclose(middle, 0.5 * (k0.planes + k1.planes), atol=1e-3)  # warped
    for t in (0.125, 0.25, 0.375):
        cloud = engine.points(T0 + int(t * SECOND))
        assert chamfer(cloud.points, truth(t)).l1 < 0.12, t
