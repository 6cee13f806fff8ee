"""The rig's poses as parameters, and validation of the stream settings."""

from lim_ros.cameras import rig
from lim_ros.errors import ConfigError
from lim_ros.stream.config import parameters_to_poses, poses_to_parameters, StreamConfig
import pytest
import torch


def test_pose_parameters_round_trip_and_default_is_the_rig():
    poses = rig(6, 32).world_T_cam
    assert torch.allclose(parameters_to_poses(poses_to_parameters(poses), 6), poses, atol=1e-6)
    assert torch.allclose(StreamConfig().poses(), rig(4, 64).world_T_cam, atol=1e-6)


def test_identity_quaternion_is_scalar_last():
    pose = parameters_to_poses([1.0, 2.0, 3.0, 0.0, 0.0, 0.0, 1.0], 1)[0]
    assert torch.equal(pose[:3, :3], torch.eye(3)) and pose[:3, 3].tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize('kwargs, field', [
    ({'cameras': []}, 'cameras'), ({'cameras': ['a', 'a', 'b', 'c']}, 'cameras'),
    ({'camera_poses': [0.0] * 27}, 'camera_poses'),
    ({'camera_poses': [float('nan')] * 28}, 'camera_poses'),
    ({'camera_poses': [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0] * 4}, 'unit quaternions'),
    ({'keyframe_rate': 0.0}, 'keyframe_rate'), ({'publish_rate': -1.0}, 'publish_rate'),
    ({'publish_lag': -0.1}, 'publish_lag'), ({'sync_tolerance': float('inf')}, 'sync_tolerance'),
    ({'keyframe_rate': 1e-300}, 'keyframe_rate'), ({'publish_lag': 1e300}, 'publish_lag'),
    ({'sync_tolerance': 1e300}, 'sync_tolerance'),
    ({'volume_frame': ''}, 'volume_frame'),
])
def test_bad_settings_are_refused_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        StreamConfig(**kwargs)
