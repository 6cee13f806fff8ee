"""
The node's parameters: declared once, with descriptors, from the core's config dataclasses.

Every field of `EngineConfig`, `StreamConfig` and `TrackingConfig` is a parameter of the same
name, type and default; `RosOptions` adds the ROS-only ones. Lists and tuples become double or
string arrays. Values are validated twice: rclpy checks the descriptor (type, range,
read-only), then the dataclasses check everything else, so a bad value raises ConfigError
naming the parameter and the node refuses to start. Parameters in ``DYNAMIC`` may change
while the node runs (the same checks apply); every other one is read-only.
"""

from dataclasses import fields
import sys

from lim_ros.engine.config import (
    INPUT_MODES,
    MAX_MESH_RESOLUTION,
    MAX_NUM_POINTS,
    MONOCULAR_VIEWS,
    OUT_OF_RANGE_POLICIES,
)
from lim_ros.engine.interpolation import METHODS
from lim_ros.engine.tracking import MAX_TRACK_GRID, SEARCHES, TEXTURES
from lim_ros.errors import ConfigError
from lim_ros.stream.config import MAX_DURATION_S, RATE_RANGE_HZ
from lim_ros.stream.settings import (
    CAMERA_QOS,
    IMAGE_TRANSPORTS,
    NodeSettings,
    POSE_SOURCES,
    SECTIONS,
    settings_from_values,
    settings_values,
)
from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException
from rclpy.node import Node

INT32_MAX = 2**31 - 1
UNBOUNDED = sys.float_info.max

# Parameters that may change at run time: they shape the outputs, not the models or topics.
DYNAMIC = ('publish_lag', 'num_points', 'mesh_resolution')


def _range(low: float, high: float) -> dict:
    return {'floating_point_range': [FloatingPointRange(from_value=low, to_value=high)]}


def _int_range(low: int, high: int = INT32_MAX) -> dict:
    return {'integer_range': [IntegerRange(from_value=low, to_value=high)]}


def _one_of(values) -> dict:
    return {'additional_constraints': 'one of: ' + ', '.join(values)}


# name: (description, extra descriptor fields). One entry per dataclass field (a test checks).
SPECS: dict[str, tuple[str, dict]] = {
    # EngineConfig
    'lrm_checkpoint': ('LRM checkpoint file (.safetensors), or a shipped one by file name '
                       '(lrm_evidence.safetensors); empty: the shipped '
                       'models/lrm_base.safetensors', {}),
    'interpolation': ('how triplanes are interpolated between keyframes: lim (the Large '
                      'Interpolator Model), linear, nearest or triplane_flow (both keyframes '
                      'warped along the flow between their planes)', _one_of(METHODS)),
    'lim_checkpoint': ('LIM checkpoint file (.safetensors), or a shipped one by file name, '
                       'used by interpolation lim; empty: the shipped '
                       'models/lim_base.safetensors', {}),
    'device': ('torch device of the models and the keyframe buffer: cpu, cuda or cuda:N', {}),
    'input_mode': ('multiview: each keyframe is the posed views of all cameras; monocular: '
                   'one camera (cameras has one name), see monocular_views',
                   _one_of(INPUT_MODES)),
    'monocular_views': ('monocular input: generated (the LRM sees the view and the views a '
                        'multi-view diffusion model generates from it) or direct (the LRM sees '
                        'the single view)', _one_of(MONOCULAR_VIEWS)),
    'generator_checkpoint': ('multi-view generator: our .safetensors checkpoint (or a shipped '
                             'one by file name) or a local diffusers pipeline folder (Zero123++ '
                             'style, with lim_views.json); empty: the shipped '
                             'models/mvdiff_prior.safetensors', {}),
    'generator_steps': ("the generator's denoising steps; 0: its default", _int_range(0)),
    'generator_seed': ("seed of the generator's initial noise, the same for every frame",
                       _int_range(0)),
    'generator_trust_code': ('let a Zero123++-style generator folder run the pipeline code it '
                             'holds (its <module>.py); off: such folders are refused', {}),
    'max_keyframes': ('most keyframes the rolling buffer holds; the oldest go first',
                      _int_range(2)),
    'max_buffer_mb': ("bound on the keyframe buffer's tensors, MiB", _range(0.0, UNBOUNDED)),
    'out_of_range': ('queries outside the buffer: reject (an error) or clamp (to the nearest '
                     'keyframe)', _one_of(OUT_OF_RANGE_POLICIES)),
    'volume_center': ('centre of the reconstruction box in volume_frame: x, y, z (m)', {}),
    'volume_size': ('edge of the reconstruction box (m)', _range(0.0, UNBOUNDED)),
    'mesh_resolution': ('marching-cubes cells per side of published meshes (and of queries '
                        'asking for 0)', _int_range(8, MAX_MESH_RESOLUTION)),
    'mesh_target_faces': ('decimate meshes to about this many faces; 0: no decimation',
                          _int_range(0)),
    'num_points': ('surface points per published cloud (and per query asking for 0)',
                   _int_range(1, MAX_NUM_POINTS)),
    'cache_size': ('reconstructions kept in the engine cache (LRU)', _int_range(0)),
    # StreamConfig
    'cameras': ('camera names; each c subscribes c/image_raw (or c/image_raw/compressed) and '
                'c/camera_info, relative to the node namespace', {}),
    'camera_poses': ('pose of each camera optical frame (OpenCV: x right, y down, z forward) '
                     'in volume_frame, 7 numbers per camera: x y z (m) qx qy qz qw; used when '
                     'pose_source is parameters', {}),
    'sync_tolerance': ('largest stamp spread between the images of one keyframe (s)',
                       _range(0.0, MAX_DURATION_S)),
    'keyframe_rate': ('at most this many keyframes per second (Hz)', _range(*RATE_RANGE_HZ)),
    'publish_rate': ('points and meshes published per second (Hz)', _range(*RATE_RANGE_HZ)),
    'publish_lag': ('outputs are reconstructed this far behind the clock (s), so a keyframe '
                    'after the output stamp exists', _range(0.0, MAX_DURATION_S)),
    'volume_frame': ('frame of camera_poses and of every output', {}),
    # TrackingConfig
    'tracking': ('publish ~/tracked_mesh (fixed faces and UV texture, vertices moved to each '
                 'output stamp) and its marker, UVs and texture', {}),
    'track_texture': ("texture baked at each track's start: albedo (the decoded colour) or "
                      'checker (a 3D checker, to see the texture stick)', _one_of(TEXTURES)),
    'track_texture_size': ('texels per side of the track texture', _int_range(8, 4096)),
    'track_checker_cell': ('edge of the checker cubes of track_texture checker (m)',
                           _range(0.0, UNBOUNDED)),
    'track_substep': ('longest time step of one tracking update (s); longer gaps between '
                      'outputs are tracked in several steps', _range(0.0, UNBOUNDED)),
    'track_reanchor_error': ('mean tracking residual (m) past which a new track starts',
                             _range(0.0, UNBOUNDED)),
    'track_search': ('how vertices move: canonical (Gauss-Newton on the canonical '
                     'coordinates from the previous position and from the mesh vertex at the '
                     'stamp with the nearest canonical position, the better kept), local (the '
                     'same from the previous position, in track_substep steps) or register '
                     '(the anchor mesh moved rigidly, then bent as rigidly as possible onto the '
                     'surface keeping its colours, in track_substep steps); local and register '
                     'start each step at the velocity of the last one', _one_of(SEARCHES)),
    'track_grid': ('0: the tracker decodes the triplane at every step; R: every field is '
                   'decoded once per stamp on an R^3 grid near the surface and read '
                   'trilinearly (several times faster, approximate)',
                   _int_range(0, MAX_TRACK_GRID)),
    'track_colour_weight': ('track_search register: weight of the term that keeps each '
                            "vertex's anchor colour; 0: shape only (better with the shipped "
                            "LRMs' low-contrast albedo, see the README)",
                            _range(0.0, UNBOUNDED)),
    # RosOptions
    'pose_source': ('where camera poses come from: parameters (camera_poses) or tf (the '
                    'camera_info frame_id in volume_frame at the image stamp; needs tf2_ros)',
                    _one_of(POSE_SOURCES)),
    'image_transport': ('raw: subscribe c/image_raw (sensor_msgs/Image); compressed: '
                        'c/image_raw/compressed (sensor_msgs/CompressedImage, jpeg or png)',
                        _one_of(IMAGE_TRANSPORTS)),
    'camera_qos': ('QoS of the camera subscriptions: sensor_data (best effort, depth 5) or '
                   'reliable (depth 10)', _one_of(CAMERA_QOS)),
    'diagnostics_period': ('seconds between /diagnostics reports', _range(0.0, 3600.0)),
}


def _parameter_type(name: str, value: object) -> int:
    """Return the ParameterType of a dataclass default ``value``."""
    if isinstance(value, bool):
        return ParameterType.PARAMETER_BOOL
    if isinstance(value, int):
        return ParameterType.PARAMETER_INTEGER
    if isinstance(value, float):
        return ParameterType.PARAMETER_DOUBLE
    if isinstance(value, str):
        return ParameterType.PARAMETER_STRING
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return ParameterType.PARAMETER_STRING_ARRAY
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, float) for v in value):
        return ParameterType.PARAMETER_DOUBLE_ARRAY
    raise TypeError(f'{name}: no parameter type for the default {value!r}')


def _to_parameter(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def defaults() -> dict[str, object]:
    """Return every parameter's default as rclpy takes it (lists for arrays), in order."""
    values = {}
    for _, cls in SECTIONS:
        instance = cls()
        for f in fields(cls):
            values[f.name] = _to_parameter(getattr(instance, f.name))
    return values


def descriptor(name: str, default: object) -> ParameterDescriptor:
    """Return the descriptor of parameter ``name``, typed after its ``default``."""
    text, extra = SPECS[name]
    return ParameterDescriptor(name=name, type=_parameter_type(name, default), description=text,
                               read_only=name not in DYNAMIC, **extra)


def _range_text(d: ParameterDescriptor) -> str:
    r = (d.floating_point_range or d.integer_range)[0]
    if r.to_value >= UNBOUNDED or r.to_value == INT32_MAX:
        return f'a value >= {r.from_value}'
    return f'a value in [{r.from_value}, {r.to_value}]'


def declare(node: Node) -> NodeSettings:
    """
    Declare every parameter on ``node`` and return the validated settings.

    :raises ConfigError: naming the parameter, for a value of the wrong type, outside its
        range, or rejected by the config dataclasses.
    """
    for name, default in defaults().items():
        d = descriptor(name, default)
        try:
            node.declare_parameter(name, default, d)
        except InvalidParameterTypeException as e:
            raise ConfigError(f'{name}: expected a {type_name(d.type)}, got '
                              f'{_override(node, name, e)}') from e
        except InvalidParameterValueException as e:
            raise ConfigError(f'{name}: expected {_range_text(d)}, got '
                              f'{_override(node, name, e)}') from e
    return settings_from(node)


def type_name(parameter_type: int) -> str:
    """Return 'double', 'string array', ... for a ParameterType value."""
    names = {v: k for k, v in vars(ParameterType).items() if k.startswith('PARAMETER_')}
    return names[parameter_type].removeprefix('PARAMETER_').lower().replace('_', ' ')


def _override(node: Node, name: str, error: Exception) -> str:
    """Return the value rclpy refused for ``name`` (an override), as text."""
    # rclpy keeps the overrides in a private dict; without it, its own message says enough.
    override = getattr(node, '_parameter_overrides', {}).get(name)
    return repr(override.value) if override is not None else f'an invalid value ({error})'


def settings_from(node: Node) -> NodeSettings:
    """
    Build the settings from ``node``'s parameters.

    :raises ConfigError: naming the first invalid field.
    """
    values = {name: node.get_parameter(name).value for name in defaults()}
    return settings_from_values(
        {name: v if isinstance(v, (str, bool, int, float)) else list(v)
         for name, v in values.items()}, node.get_fully_qualified_name())


def updated(settings: NodeSettings, changes: dict[str, object]) -> NodeSettings:
    """
    Return ``settings`` with the DYNAMIC parameters in ``changes`` replaced.

    :raises ConfigError: for a parameter that is not dynamic, or an invalid value.
    """
    fixed = sorted(set(changes) - set(DYNAMIC))
    if fixed:
        raise ConfigError(f'{", ".join(fixed)}: read-only while the node runs')
    return settings_from_values({**settings_values(settings), **changes})
