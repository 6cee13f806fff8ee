"""Tests of reading the node's parameter file without ROS (lim_ros.bag.params)."""

from pathlib import Path

from lim_ros.bag.params import load_parameters
from lim_ros.engine import EngineConfig
from lim_ros.engine.tracking import TrackingConfig
from lim_ros.errors import ConfigError
from lim_ros.stream.config import StreamConfig
from lim_ros.stream.settings import RosOptions, settings_from_values
import pytest

REPO = Path(__file__).resolve().parents[2]


def test_shipped_params_file_gives_the_defaults():
    params = load_parameters(REPO / 'config' / 'lim.yaml')
    assert params.engine == EngineConfig()
    assert params.stream.cameras == StreamConfig().cameras
    assert params.stream.poses().allclose(StreamConfig().poses(), atol=1e-6)
    assert params.ros == RosOptions()


def test_the_register_preset_changes_only_what_it_names():
    params = load_parameters(REPO / 'config' / 'lim_register.yaml')
    assert params.tracking == TrackingConfig(track_search='register', track_grid=96,
                                             track_colour_weight=0.0)
    assert params.engine == EngineConfig(lrm_checkpoint='lrm_evidence.safetensors',
                                         max_buffer_mb=512.0)
    assert params.stream.keyframe_rate == params.stream.publish_rate == 10.0
    assert params.ros == RosOptions()


def test_values_are_split_by_field_name_and_converted(tmp_path):
    path = tmp_path / 'p.yaml'
    path.write_text('/**:\n  ros__parameters:\n    volume_center: [0.5, 0, 1]\n'
                    '    keyframe_rate: 4.0\n    image_transport: compressed\n')
    params = load_parameters(path)
    assert params.engine.volume_center == (0.5, 0, 1)
    assert params.stream.keyframe_rate == 4.0
    assert params.ros.image_transport == 'compressed'


def test_unknown_key_is_a_config_error_naming_it(tmp_path):
    path = tmp_path / 'p.yaml'
    path.write_text('lim_node:\n  ros__parameters:\n    publish_rate: 5.0\n    meshes: 3\n')
    with pytest.raises(ConfigError, match="unknown parameter 'meshes'") as error:
        load_parameters(path)
    assert str(path) in str(error.value)


@pytest.mark.parametrize('text, match', [
    ('other_node:\n  ros__parameters: {}\n', 'lim_node: ros__parameters'),
    ('lim_node:\n  ros__parameters:\n    interpolation: cubic\n', 'interpolation'),
    ('lim_node:\n  ros__parameters:\n    keyframe_rate: -1.0\n', 'keyframe_rate'),
    # the node's parameter ranges hold here too: a huge grid or cloud would exhaust memory
    ('lim_node:\n  ros__parameters:\n    mesh_resolution: 4096\n',
     r'mesh_resolution: expected an integer in \[8, 512\], got 4096'),
    ('lim_node:\n  ros__parameters:\n    num_points: 100000000\n',
     r'num_points: expected an integer in \[1, 2000000\], got 100000000'),
    ('lim_node: [unclosed\n', 'not a YAML file'),
])
def test_bad_files_are_config_errors(tmp_path, text, match):
    path = tmp_path / 'p.yaml'
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        load_parameters(path)


def test_missing_file_and_non_mapping():
    with pytest.raises(ConfigError, match='no such parameter file'):
        load_parameters(Path('/nonexistent/lim.yaml'))
    with pytest.raises(ConfigError, match='mapping'):
        settings_from_values(['cameras'])
