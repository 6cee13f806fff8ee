"""The reconstruction volume maps the unit cube to metres in the volume frame and back."""

from lim_ros.cameras import rig
from lim_ros.engine.volume import Volume
from lim_ros.errors import ConfigError
import pytest
import torch


def test_unit_cube_corners_map_to_the_box():
    volume = Volume(center=(1.0, -2.0, 0.5), size=4.0)
    corners = torch.tensor([[-1.0, -1.0, -1.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    metres = volume.to_volume(corners)
    assert torch.allclose(metres, torch.tensor([[-1.0, -4.0, -1.5], [3.0, 0.0, 2.5],
                                                [1.0, -2.0, 0.5]]))
    assert torch.allclose(volume.to_unit(metres), corners)


def test_cameras_move_with_the_box_and_keep_intrinsics_and_rotation():
    volume = Volume(center=(1.0, 0.0, 0.0), size=4.0)
    cameras = rig(4, 32)
    unit = volume.cameras_to_unit(cameras)
    assert torch.equal(unit.K, cameras.K)
    assert torch.equal(unit.world_T_cam[:, :3, :3], cameras.world_T_cam[:, :3, :3])
    expected = (cameras.world_T_cam[:, :3, 3] - torch.tensor([1.0, 0.0, 0.0])) / 2.0
    assert torch.allclose(unit.world_T_cam[:, :3, 3], expected)


@pytest.mark.parametrize('kwargs, field', [
    ({'size': 0.0}, 'volume_size'), ({'size': float('nan')}, 'volume_size'),
    ({'center': (0.0, float('inf'), 0.0)}, 'volume_center'),
    ({'center': (0.0, 0.0)}, 'volume_center'),
])
def test_bad_volume_is_refused_naming_the_parameter(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        Volume(**kwargs)
