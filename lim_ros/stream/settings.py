"""
Everything the node's parameters configure, as one validated `NodeSettings`, without ROS.

Convention: parameters are named exactly as the fields of `EngineConfig`, `StreamConfig`,
`TrackingConfig` and `RosOptions` (the ROS-only ones); the node declares them from these
dataclasses, and ``lim-ros bag`` reads the same names from the node's parameter file. An
unknown name is a ConfigError naming it; a missing one takes the field's default.
"""

from dataclasses import dataclass, field, fields
from typing import Any

from lim_ros.config_io import from_dict
from lim_ros.engine.config import EngineConfig
from lim_ros.engine.tracking import TrackingConfig
from lim_ros.errors import ConfigError
from lim_ros.stream.config import StreamConfig

POSE_SOURCES = ('parameters', 'tf')
IMAGE_TRANSPORTS = ('raw', 'compressed')
CAMERA_QOS = ('sensor_data', 'reliable')


@dataclass(frozen=True)
class RosOptions:
    """The node's ROS-only settings."""

    pose_source: str = 'parameters'  # camera poses from `camera_poses` or from tf
    image_transport: str = 'raw'  # subscribe image_raw or image_raw/compressed
    camera_qos: str = 'sensor_data'  # camera subscriptions: sensor-data QoS or reliable
    diagnostics_period: float = 1.0  # s between /diagnostics reports

    def __post_init__(self) -> None:
        """Validate every field; raise ConfigError naming the first bad one."""
        for name, allowed in (('pose_source', POSE_SOURCES),
                              ('image_transport', IMAGE_TRANSPORTS),
                              ('camera_qos', CAMERA_QOS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f'{name}: expected one of {allowed}, '
                                  f'got {getattr(self, name)!r}')
        if not 0.0 < float(self.diagnostics_period) <= 3600.0:
            raise ConfigError(f'diagnostics_period: expected seconds in (0, 3600], '
                              f'got {self.diagnostics_period!r}')


@dataclass(frozen=True)
class NodeSettings:
    """Everything the parameters configure, validated."""

    engine: EngineConfig = field(default_factory=EngineConfig)
    stream: StreamConfig = field(default_factory=StreamConfig)
    ros: RosOptions = field(default_factory=RosOptions)
    tracking: TrackingConfig = field(default_factory=TrackingConfig)

    def __post_init__(self) -> None:
        """Check the settings that span sections: monocular input has one camera."""
        if self.engine.input_mode == 'monocular' and len(self.stream.cameras) != 1:
            raise ConfigError(f'input_mode: monocular takes exactly one camera, got cameras '
                              f'{list(self.stream.cameras)}')


SECTIONS = (('engine', EngineConfig), ('stream', StreamConfig), ('tracking', TrackingConfig),
            ('ros', RosOptions))


def settings_from_values(values: dict, where: str = 'lim_node') -> NodeSettings:
    """
    Build the settings from parameter values (name → value; sequences as lists).

    :raises ConfigError: naming an unknown parameter or the first invalid value (``where``
        prefixes the message: a file, a node).
    """
    if not isinstance(values, dict):
        raise ConfigError(f'{where}: expected a mapping of parameters, got '
                          f'{type(values).__name__}')
    names = {f.name: section for section, cls in SECTIONS for f in fields(cls)}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ConfigError(f'{where}: unknown parameter {unknown[0]!r} (all unknown: {unknown}); '
                          'expected names of EngineConfig, StreamConfig, TrackingConfig or '
                          'RosOptions')
    try:
        sections: dict[str, Any] = {  # section name → its config dataclass (types differ)
            section: from_dict(cls, {k: v for k, v in values.items() if names[k] == section},
                               where)
            for section, cls in SECTIONS}
        return NodeSettings(**sections)
    except TypeError as error:  # a config's own validation of a value's type
        raise ConfigError(f'{where}: {error}') from error


def settings_values(settings: NodeSettings) -> dict[str, object]:
    """Return every parameter's value in ``settings`` (name → value), sections in order."""
    return {f.name: getattr(getattr(settings, section), f.name)
            for section, cls in SECTIONS for f in fields(cls)}
