"""Tests of recording a synthetic scene as a camera bag (lim_ros.bag.scene)."""

from bag.bags import read_raw, SCENE
from lim_ros.bag.scene import camera_info_cdr, scene_cameras, SceneConfig
from lim_ros.bag.writer import BagWriter, indexed_mesh_definition, typestore
from lim_ros.cameras import rig
from lim_ros.errors import BagError, ConfigError
from lim_ros.stream.config import StreamConfig
import numpy as np
import pytest


def test_stamps_start_at_the_epoch_and_follow_the_camera_rate():
    stamps = SCENE.stamps()
    assert stamps == [SCENE.start_ns + i * 250_000_000 for i in range(5)]
    assert SCENE.time_of(stamps[2]) == 0.5
    assert len(SceneConfig(duration=2.0, camera_rate=10.0).stamps()) == 21


def test_scene_cameras_are_the_default_rig():
    cameras = scene_cameras(SceneConfig(size=96), StreamConfig())
    expected = rig(4, 96)
    assert cameras.K.allclose(expected.K)
    assert cameras.world_T_cam.allclose(expected.world_T_cam, atol=1e-6)


def test_scene_bag_holds_image_and_camera_info_per_camera_and_frame(scene_bag):
    path, stamps = scene_bag
    messages = read_raw(path)
    topics = {(topic, msgtype) for topic, msgtype, _, _ in messages}
    assert topics == {(f'/cam{i}/{name}', f'sensor_msgs/msg/{kind}') for i in range(4)
                      for name, kind in (('image_raw', 'Image'), ('camera_info', 'CameraInfo'))}
    assert len(messages) == 8 * len(stamps)
    assert sorted({t for _, _, t, _ in messages}) == stamps


def test_camera_info_round_trips_through_rosbags():
    K = np.array([[80.0, 0, 32], [0, 81.0, 30], [0, 0, 1]])
    info = typestore().deserialize_cdr(camera_info_cdr(K, 60, 64, 1_500_000_000, 'cam'),
                                       'sensor_msgs/msg/CameraInfo')
    assert np.array_equal(info.k.reshape(3, 3), K)
    assert (info.height, info.width, info.header.frame_id) == (60, 64, 'cam')
    assert (info.header.stamp.sec, info.header.stamp.nanosec) == (1, 500_000_000)
    assert info.p.reshape(3, 4)[:, :3].tolist() == K.tolist()


@pytest.mark.parametrize('fields, match', [
    ({'family': 'dragon'}, 'families'), ({'duration': -1.0}, 'duration'),
    ({'camera_rate': 0.0}, 'camera_rate'), ({'size': 4}, 'size'),
    ({'start_ns': 1.5}, 'start_ns'),
])
def test_bad_scene_configs_are_config_errors(fields, match):
    with pytest.raises(ConfigError, match=match):
        SceneConfig(**fields)


def test_indexed_mesh_is_registered_from_the_checkout_definition():
    assert indexed_mesh_definition().name == 'IndexedMesh.msg'
    fields = [name for name, _ in typestore().fielddefs['lim_ros_msgs/msg/IndexedMesh'][1]]
    assert fields == ['header', 'vertices', 'triangles', 'vertex_colors', 'uv', 'track_id']


def test_writer_refuses_existing_paths_and_unknown_storage(tmp_path):
    with pytest.raises(BagError, match='exists already'):
        BagWriter(tmp_path, 'sqlite3', {})
    with pytest.raises(ConfigError, match='storage'):
        BagWriter(tmp_path / 'new', 'rosbag1', {})
    with BagWriter(tmp_path / 'empty', 'mcap', {'/a': 'std_msgs/msg/String'}):
        pass
    assert not (tmp_path / 'empty').exists()  # no message, no bag
