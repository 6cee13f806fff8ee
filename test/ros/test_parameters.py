"""
The node's parameters: one per config field, declared with descriptors, checked on change.

Defaults come from the config dataclasses and must equal config/lim.yaml; descriptors carry a
description, the type, ranges and read-only; dynamic parameters are validated by the same
dataclasses when they change.
"""

from dataclasses import fields
import math
from pathlib import Path

from lim_ros.engine.config import EngineConfig
from lim_ros.engine.tracking import TrackingConfig
from lim_ros.errors import ConfigError
from lim_ros.ros import parameters
from lim_ros.ros.lim_node import LimNode
from lim_ros.stream.config import StreamConfig
from lim_ros.stream.settings import NodeSettings, RosOptions
import pytest
from rcl_interfaces.msg import ParameterType
from rclpy.parameter import Parameter
import yaml

REPO = Path(__file__).resolve().parents[2]


def test_every_config_field_is_a_parameter_with_a_spec():
    names = [f.name for cls in (EngineConfig, StreamConfig, TrackingConfig, RosOptions)
             for f in fields(cls)]
    assert list(parameters.defaults()) == names
    assert set(parameters.SPECS) == set(names)
    assert set(parameters.DYNAMIC) <= set(names)


def test_descriptor_types_follow_the_defaults():
    defaults = parameters.defaults()
    types = {name: parameters.descriptor(name, value).type for name, value in defaults.items()}
    assert types['cameras'] == ParameterType.PARAMETER_STRING_ARRAY
    assert types['camera_poses'] == ParameterType.PARAMETER_DOUBLE_ARRAY
    assert types['volume_center'] == ParameterType.PARAMETER_DOUBLE_ARRAY
    assert types['max_keyframes'] == ParameterType.PARAMETER_INTEGER
    assert types['keyframe_rate'] == ParameterType.PARAMETER_DOUBLE
    assert types['device'] == ParameterType.PARAMETER_STRING
    assert types['tracking'] == ParameterType.PARAMETER_BOOL
    assert isinstance(defaults['volume_center'], list)


def test_defaults_equal_config_lim_yaml():
    with open(REPO / 'config' / 'lim.yaml') as f:
        configured = yaml.safe_load(f)['lim_node']['ros__parameters']
    defaults = parameters.defaults()
    assert set(configured) == set(defaults)
    for name, value in defaults.items():
        if isinstance(value, list) and value and isinstance(value[0], float):
            assert configured[name] == pytest.approx(value, abs=1e-6), name
        else:
            assert configured[name] == value, name


def test_ros_options_name_the_bad_field():
    with pytest.raises(ConfigError, match='camera_qos'):
        RosOptions(camera_qos='best_effort')
    with pytest.raises(ConfigError, match='diagnostics_period'):
        RosOptions(diagnostics_period=0.0)


@pytest.fixture
def node(ros_context, node_suffix):
    node = LimNode(namespace=f'/lim_test_{node_suffix}', context=ros_context)
    yield node
    node.destroy_node()


def test_declared_descriptors(node):
    for name in parameters.defaults():
        d = node.describe_parameter(name)
        assert d.description, name
        assert d.read_only == (name not in parameters.DYNAMIC), name
    rate = node.describe_parameter('keyframe_rate').floating_point_range[0]
    assert (rate.from_value, rate.to_value) == (0.001, 1000.0)
    points = node.describe_parameter('num_points').integer_range[0]
    assert (points.from_value, points.to_value) == (1, parameters.MAX_NUM_POINTS)
    assert 'linear' in node.describe_parameter('interpolation').additional_constraints


def test_dynamic_parameters_are_validated_and_applied(node):
    results = node.set_parameters([Parameter('num_points', value=500),
                                   Parameter('publish_lag', value=1.5)])
    assert all(r.successful for r in results)
    assert node.settings.engine.num_points == 500
    assert math.isclose(node.settings.stream.publish_lag, 1.5)

    refused = {
        'publish_lag': -1.0,  # out of range
        'mesh_resolution': 4,  # out of range
        'keyframe_rate': 3.0,  # read-only
        'num_points': 2.5,  # wrong type
    }
    for name, value in refused.items():
        (result,) = node.set_parameters([Parameter(name, value=value)])
        assert not result.successful, name
        assert result.reason
    assert node.settings.engine.num_points == 500
    assert node.settings.stream.keyframe_rate == 2.0


def test_updated_refuses_fixed_parameters():
    settings = NodeSettings(EngineConfig(), StreamConfig(), RosOptions())
    assert parameters.updated(settings, {'num_points': 10}).engine.num_points == 10
    with pytest.raises(ConfigError, match='keyframe_rate: read-only'):
        parameters.updated(settings, {'keyframe_rate': 1.0})
    with pytest.raises(ConfigError, match='publish_lag'):
        parameters.updated(settings, {'publish_lag': float('nan')})
