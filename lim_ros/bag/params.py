"""
The node's parameter file (config/lim.yaml) read without ROS, for ``lim-ros bag``.

Convention: the file is a ROS 2 parameter file; the section ``lim_node: ros__parameters:``
(or ``/lim_node:``, or the wildcard ``/**:``) holds parameters named exactly as the fields of
`EngineConfig` and `StreamConfig`, plus the few that only the node uses (``ROS_ONLY``). Every
other key fails with ConfigError naming it; a missing key takes the field's default.
"""

from dataclasses import dataclass, field, fields
from pathlib import Path

from lim_ros.config_io import from_dict
from lim_ros.engine.config import EngineConfig
from lim_ros.errors import ConfigError
from lim_ros.stream.config import StreamConfig
import yaml

NODE_NAME = 'lim_node'
SECTION_NAMES = (NODE_NAME, f'/{NODE_NAME}', '/**')
# Parameters of the ROS node with no meaning for a bag: their defaults, for reference.
ROS_ONLY = {'pose_source': 'parameters', 'image_transport': 'raw', 'camera_qos': 'sensor_data',
            'diagnostics_period': 1.0}


@dataclass(frozen=True)
class NodeParameters:
    """The node's parameters split by who uses them."""

    engine: EngineConfig = field(default_factory=EngineConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    ros_only: dict = field(default_factory=lambda: dict(ROS_ONLY))


def parameters_from_dict(values: dict, where: str = NODE_NAME) -> NodeParameters:
    """
    Split ``values`` (parameter name → value) into the engine's and the stream's configs.

    :raises ConfigError: naming an unknown key (``where`` prefixes the message), or a value
        a config rejects.
    """
    if not isinstance(values, dict):
        raise ConfigError(f'{where}: expected a mapping of parameters, got '
                          f'{type(values).__name__}')
    engine_keys = {f.name for f in fields(EngineConfig)}
    stream_keys = {f.name for f in fields(StreamConfig)}
    unknown = sorted(set(values) - engine_keys - stream_keys - set(ROS_ONLY))
    if unknown:
        raise ConfigError(f'{where}: unknown parameter {unknown[0]!r} (all unknown: {unknown}); '
                          f'expected names of EngineConfig, StreamConfig or {sorted(ROS_ONLY)}')
    try:
        engine = from_dict(EngineConfig, {k: v for k, v in values.items() if k in engine_keys},
                           where)
        stream = from_dict(StreamConfig, {k: v for k, v in values.items() if k in stream_keys},
                           where)
    except TypeError as error:  # a config's own validation of a value's type
        raise ConfigError(f'{where}: {error}') from error
    ros_only = dict(ROS_ONLY, **{k: v for k, v in values.items() if k in ROS_ONLY})
    return NodeParameters(engine, stream, ros_only)


def load_parameters(path: Path) -> NodeParameters:
    """
    Read the ``lim_node`` section of the ROS 2 parameter file ``path``.

    :raises ConfigError: if the file is missing, is not YAML, has no such section, or holds
        an unknown or invalid parameter (the message names the file and the key).
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f'{path}: no such parameter file')
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ConfigError(f'{path}: not a YAML file: {error}') from error
    if not isinstance(document, dict):
        raise ConfigError(f'{path}: expected a mapping at the top level, got '
                          f'{type(document).__name__}')
    section = next((document[name] for name in SECTION_NAMES if name in document), None)
    if not isinstance(section, dict) or 'ros__parameters' not in section:
        raise ConfigError(f'{path}: expected a section "{NODE_NAME}: ros__parameters:" '
                          f'(or {SECTION_NAMES[1]!r} or {SECTION_NAMES[2]!r}), found top-level '
                          f'keys {sorted(document)}')
    return parameters_from_dict(section['ros__parameters'] or {},
                                f'{path}: {NODE_NAME}.ros__parameters')
