"""
The core imports and works without ROS: only ``lim_ros.ros`` may import rclpy or messages.

Two checks. A fresh interpreter in which every ROS module fails to import (a ``sys.meta_path``
finder raises ImportError for them) imports every lim_ros module outside ``lim_ros.ros``. And
no source file outside ``lim_ros/ros/`` names a ROS module in an import, even inside a function
or through ``importlib.import_module``.
"""

import ast
import inspect
import json
import os
from pathlib import Path
import subprocess
import sys

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / 'lim_ros'

# Top-level module names that belong to ROS.
ROS_NAMES = frozenset({
    'builtin_interfaces', 'cv_bridge', 'message_filters', 'rosbag2_py', 'rpyutils',
    'sensor_msgs_py', 'tf2_py', 'tf2_ros',
})
ROS_PREFIXES = ('rclpy', 'rcl_', 'rmw', 'rosidl', 'ament_', 'launch', 'tf2_')
ROS_SUFFIXES = ('_msgs', '_srvs', '_interfaces', '_actions')


def is_ros_module(name):
    """Return whether module ``name`` (dotted) belongs to ROS."""
    top = name.partition('.')[0]
    return top in ROS_NAMES or top.startswith(ROS_PREFIXES) or top.endswith(ROS_SUFFIXES)


# Run by a fresh interpreter: argv[1] is the lim_ros directory, argv[2] the rule above as
# JSON. Prints one JSON line: what was imported, what failed (with tracebacks), and which ROS
# modules ended up loaded anyway.
CHILD_SCRIPT = """
import importlib
import importlib.abc
import json
import os
import pkgutil
import sys
import traceback

ROS_NAMES, ROS_PREFIXES, ROS_SUFFIXES = (tuple(rule) for rule in json.loads(sys.argv[2]))
""" + inspect.getsource(is_ros_module) + """

class BlockRos(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if is_ros_module(name):
            raise ImportError(f'{name} is blocked: the lim_ros core must work without ROS')
        return None


sys.meta_path.insert(0, BlockRos())
result = {'blocked_rclpy': False, 'imported': [], 'failed': {}}
try:
    import rclpy  # noqa: F401
except ImportError:
    result['blocked_rclpy'] = True


def core_modules(name, path):
    yield name
    for info in pkgutil.iter_modules([path]):
        child = f'{name}.{info.name}'
        if child == 'lim_ros.ros' or info.name == '__main__':
            continue
        if info.ispkg:
            yield from core_modules(child, os.path.join(path, info.name))
        else:
            yield child


for module in core_modules('lim_ros', sys.argv[1]):
    try:
        importlib.import_module(module)
        result['imported'].append(module)
    except BaseException:
        result['failed'][module] = traceback.format_exc()
result['ros_loaded'] = sorted(name for name in sys.modules if is_ros_module(name))
print(json.dumps(result))
"""


def test_core_imports_with_ros_unavailable():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p]))
    completed = subprocess.run(
        [sys.executable, '-c', CHILD_SCRIPT, str(PACKAGE),
         json.dumps([sorted(ROS_NAMES), ROS_PREFIXES, ROS_SUFFIXES])], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=600)
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])

    assert result['blocked_rclpy'], 'the import blocker did not block rclpy'
    assert 'lim_ros' in result['imported']
    failures = '\n'.join(f'--- {name}\n{tb}' for name, tb in result['failed'].items())
    assert not result['failed'], f'core modules failed to import without ROS:\n{failures}'
    assert result['ros_loaded'] == []


def _imported_modules(tree):
    """Yield (line, module name) for every absolute import in ``tree``, however written."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and getattr(node.func, 'attr', getattr(node.func, 'id', None))
              in ('import_module', '__import__')):
            yield node.lineno, node.args[0].value


def test_no_ros_imports_outside_lim_ros_ros():
    offenders = []
    sources = sorted(PACKAGE.rglob('*.py'))
    assert sources, f'no Python sources under {PACKAGE}'
    for source in sources:
        relative = source.relative_to(REPO)
        if relative.parts[:2] == ('lim_ros', 'ros'):
            continue
        tree = ast.parse(source.read_text(encoding='utf-8'), filename=str(source))
        offenders += [f'{relative}:{line}: imports {name}'
                      for line, name in _imported_modules(tree) if is_ros_module(name)]
    assert not offenders, 'only lim_ros/ros/ may import ROS modules:\n' + '\n'.join(offenders)


def test_ros_module_rule():
    for name in ('rclpy', 'rclpy.node', 'std_msgs.msg', 'sensor_msgs', 'visualization_msgs',
                 'std_srvs.srv', 'rcl_interfaces.msg', 'rosidl_runtime_py', 'launch_ros',
                 'tf2_ros', 'message_filters', 'cv_bridge', 'ament_index_python'):
        assert is_ros_module(name), name
    for name in ('lim_ros', 'lim_ros.engine', 'numpy', 'torch', 'rosbags', 'rosbags.rosbag2',
                 'rich', 'scipy', 'yaml'):
        assert not is_ros_module(name), name
