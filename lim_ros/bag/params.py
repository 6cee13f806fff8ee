"""
The node's parameter file (config/lim.yaml) read without ROS, for ``lim-ros bag``.

Convention: the file is a ROS 2 parameter file; the section ``lim_node: ros__parameters:``
(or ``/lim_node:``, or the wildcard ``/**:``) holds the node's parameters, read into
`lim_ros.stream.settings.NodeSettings` as the node reads them: an unknown key fails with
ConfigError naming it; a missing key takes the field's default.
"""

from pathlib import Path

from lim_ros.errors import ConfigError
from lim_ros.stream.settings import NodeSettings, settings_from_values
import yaml

NODE_NAME = 'lim_node'
SECTION_NAMES = (NODE_NAME, f'/{NODE_NAME}', '/**')


def load_parameters(path: Path) -> NodeSettings:
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
    return settings_from_values(section['ros__parameters'] or {},
                                f'{path}: {NODE_NAME}.ros__parameters')
