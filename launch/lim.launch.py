"""
Start lim_node with its parameters file, and optionally RViz.

    ros2 launch lim_ros lim.launch.py [config:=FILE] [cameras:="[cam0, cam1]"] [device:=cuda]
                                      [input_mode:=monocular] [namespace:=robot1]
                                      [use_sim_time:=true] [rviz:=true]

``config`` defaults to the installed config/lim.yaml. ``cameras``, ``device`` and
``input_mode``, when given, override that file's values; left empty, the file decides
(``input_mode:=monocular`` needs one camera, e.g. ``cameras:="[cam0]"``). Camera topics are
relative to the node's namespace (``<camera>/image_raw``, ``<camera>/camera_info``): remap
them or set ``cameras`` to match your drivers.
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node
import yaml

ARGUMENTS = {
    'config': ('', 'parameters file (default: the installed config/lim.yaml)'),
    'cameras': ('', 'camera names as a YAML list, e.g. "[cam0, cam1]" (default: from config)'),
    'device': ('', 'cpu, cuda or cuda:N (default: from config)'),
    'input_mode': ('', 'multiview or monocular (one camera; default: from config)'),
    'namespace': ('', 'namespace of the node and of its topics'),
    'use_sim_time': ('false', 'use /clock, e.g. when replaying a bag'),
    'rviz': ('false', 'also start RViz with config/lim.rviz'),
}


def _overrides(context) -> dict:
    """Return the node parameters given on the command line (non-empty arguments only)."""
    values = {}
    cameras = LaunchConfiguration('cameras').perform(context)
    if cameras:
        values['cameras'] = [str(c) for c in yaml.safe_load(cameras)]
    device = LaunchConfiguration('device').perform(context)
    if device:
        values['device'] = device
    input_mode = LaunchConfiguration('input_mode').perform(context)
    if input_mode:
        values['input_mode'] = input_mode
    values['use_sim_time'] = LaunchConfiguration('use_sim_time').perform(context) == 'true'
    return values


def _nodes(context):
    share = get_package_share_directory('lim_ros')
    config = LaunchConfiguration('config').perform(context) or os.path.join(
        share, 'config', 'lim.yaml')
    return [Node(package='lim_ros', executable='lim_node', name='lim_node',
                 namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
                 parameters=[config, _overrides(context)])]


def generate_launch_description():
    share = get_package_share_directory('lim_ros')
    rviz = Node(package='rviz2', executable='rviz2', name='rviz2',
                arguments=['-d', os.path.join(share, 'config', 'lim.rviz')],
                condition=IfCondition(LaunchConfiguration('rviz')))
    return LaunchDescription([
        *(DeclareLaunchArgument(name, default_value=default, description=text)
          for name, (default, text) in ARGUMENTS.items()),
        OpaqueFunction(function=_nodes),
        rviz,
    ])
