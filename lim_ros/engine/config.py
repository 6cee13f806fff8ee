"""
The engine's settings, one dataclass; the ROS node's parameters carry the same names.

Defaults are the ones `config/lim.yaml` holds (a test compares them).
"""

from dataclasses import dataclass
import math

from lim_ros.engine.interpolation import METHODS
from lim_ros.errors import ConfigError
import torch

OUT_OF_RANGE_POLICIES = ('reject', 'clamp')
INPUT_MODES = ('multiview', 'monocular')
MONOCULAR_VIEWS = ('generated', 'direct')
MAX_MESH_RESOLUTION = 512  # marching-cubes cells per side: 512^3 SDF samples at most
MAX_NUM_POINTS = 2_000_000  # surface points per cloud


def _positive_int(name: str, value: object, minimum: int = 1,
                  maximum: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f'{name}: expected an integer >= {minimum}, got {value!r}')
    if maximum is not None and value > maximum:
        raise ConfigError(f'{name}: expected an integer in [{minimum}, {maximum}], '
                          f'got {value!r}')


def check_mesh_resolution(value: object) -> None:
    """Raise ConfigError unless ``value`` is a marching-cubes grid in [8, MAX_MESH_RESOLUTION]."""
    _positive_int('mesh_resolution', value, 8, MAX_MESH_RESOLUTION)


@dataclass(frozen=True)
class EngineConfig:
    """What the engine loads, how long it remembers, and how it extracts geometry."""

    lrm_checkpoint: str = ''  # '' → the shipped models/lrm_base.safetensors
    interpolation: str = 'linear'  # a method of `lim_ros.engine.interpolation.METHODS`
    lim_checkpoint: str = ''  # '' → the shipped models/lim_base.safetensors (for 'lim')
    device: str = 'cpu'  # 'cpu', 'cuda' or 'cuda:N'
    input_mode: str = 'multiview'  # 'multiview' (posed views of a rig) or 'monocular' (1 view)
    monocular_views: str = 'generated'  # monocular: LRM on 1 + K 'generated' views, or 'direct'
    generator_checkpoint: str = ''  # '' → the shipped models/mvdiff_prior.safetensors
    generator_steps: int = 0  # denoising steps of the generator; 0: its default
    generator_seed: int = 0  # seed of the generator's initial noise, the same for every frame
    generator_trust_code: bool = False  # let a pipeline folder run its own pipeline.py
    max_keyframes: int = 16
    max_buffer_mb: float = 256.0  # bound on the buffer's tensors, MiB
    out_of_range: str = 'reject'  # queries outside the buffer: 'reject' (error) or 'clamp'
    volume_center: tuple[float, float, float] = (0.0, 0.0, 0.0)  # metres, volume frame
    volume_size: float = 2.0  # edge of the reconstruction box, metres
    mesh_resolution: int = 64  # marching-cubes grid per side
    mesh_target_faces: int = 0  # decimate meshes to about this many faces; 0: off
    num_points: int = 20000  # surface points per cloud
    cache_size: int = 8  # query results kept (LRU)

    def __post_init__(self) -> None:
        """Validate every field; raise ConfigError naming the first bad one."""
        if self.interpolation not in METHODS:
            raise ConfigError(f'interpolation: expected one of {METHODS}, '
                              f'got {self.interpolation!r}')
        for name, allowed in (('input_mode', INPUT_MODES), ('monocular_views', MONOCULAR_VIEWS)):
            if getattr(self, name) not in allowed:
                raise ConfigError(f'{name}: expected one of {allowed}, '
                                  f'got {getattr(self, name)!r}')
        _positive_int('generator_steps', self.generator_steps, 0)
        _positive_int('generator_seed', self.generator_seed, 0)
        if self.out_of_range not in OUT_OF_RANGE_POLICIES:
            raise ConfigError(f'out_of_range: expected one of {OUT_OF_RANGE_POLICIES}, '
                              f'got {self.out_of_range!r}')
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as e:
            raise ConfigError(f'device: expected cpu, cuda or cuda:N, got {self.device!r}') from e
        if device.type not in ('cpu', 'cuda'):
            raise ConfigError(f'device: expected cpu, cuda or cuda:N, got {self.device!r}')
        if device.type == 'cuda' and not torch.cuda.is_available():
            raise ConfigError(f'device: {self.device!r} requested, but no CUDA device is '
                              'available (use cpu)')
        _positive_int('max_keyframes', self.max_keyframes, 2)
        if not 0.0 < float(self.max_buffer_mb) < math.inf:
            raise ConfigError(f'max_buffer_mb: expected a positive number, '
                              f'got {self.max_buffer_mb!r}')
        check_mesh_resolution(self.mesh_resolution)
        _positive_int('mesh_target_faces', self.mesh_target_faces, 0)
        _positive_int('num_points', self.num_points, 1, MAX_NUM_POINTS)
        _positive_int('cache_size', self.cache_size, 0)

    @property
    def max_buffer_bytes(self) -> int:
        """Return the buffer bound in bytes."""
        return int(self.max_buffer_mb * 2**20)
