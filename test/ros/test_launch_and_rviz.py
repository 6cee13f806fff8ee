"""
The launch file and the RViz config agree with the node (launch/launch_ros are not installable).

What can be checked here: the launch file compiles; its arguments are the documented ones;
every node parameter it sets exists; and RViz shows the node's real topics, with the QoS the
node offers, in the node's default frame.
"""

import ast
from pathlib import Path
import py_compile

from lim_ros.ros import parameters
import yaml

REPO = Path(__file__).resolve().parents[2]
LAUNCH = REPO / 'launch' / 'lim.launch.py'


def _launch_tree() -> ast.Module:
    py_compile.compile(str(LAUNCH), doraise=True, cfile=None)
    return ast.parse(LAUNCH.read_text())


def test_launch_arguments_are_the_documented_ones():
    tree = _launch_tree()
    table = next(node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
                 and getattr(node.targets[0], 'id', '') == 'ARGUMENTS')
    names = {key.value for key in table.keys}
    assert names == {'config', 'cameras', 'device', 'input_mode', 'namespace', 'use_sim_time',
                     'rviz'}
    readme = (REPO / 'README.md').read_text()
    assert all(f'`{name}`' in readme for name in names)


def test_parameters_the_launch_file_sets_are_node_parameters():
    tree = _launch_tree()
    overrides = {node.slice.value for node in ast.walk(tree) if isinstance(node, ast.Subscript)
                 and getattr(node.value, 'id', '') == 'values'}
    assert overrides == {'cameras', 'device', 'input_mode', 'use_sim_time'}
    declared = set(parameters.defaults())
    assert overrides - {'use_sim_time'} <= declared  # use_sim_time: every node has it
    node_calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                  and getattr(node.func, 'id', '') == 'Node']
    lim = [c for c in node_calls if any(k.arg == 'executable' and k.value.value == 'lim_node'
                                        for k in c.keywords)]
    assert len(lim) == 1
    assert {k.arg: getattr(k.value, 'value', None) for k in lim[0].keywords}['name'] == 'lim_node'


def test_rviz_shows_the_node_topics_in_its_frame():
    config = yaml.safe_load((REPO / 'config' / 'lim.rviz').read_text())['Visualization Manager']
    assert config['Global Options']['Fixed Frame'] == parameters.defaults()['volume_frame']
    displays = {d['Name']: d for d in config['Displays']}
    points = displays['Points']['Topic']
    assert displays['Points']['Class'] == 'rviz_default_plugins/PointCloud2'
    assert points['Value'] == '/lim_node/points' and points['Reliability Policy'] == 'Reliable'
    for name, topic in (('Mesh', 'mesh_marker'), ('Tracked mesh', 'tracked_mesh_marker')):
        marker = displays[name]['Topic']
        assert displays[name]['Class'] == 'rviz_default_plugins/Marker'
        assert marker['Value'] == f'/lim_node/{topic}'
        assert marker['Durability Policy'] == 'Transient Local'
