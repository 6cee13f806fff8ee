"""
Triplanes between keyframes: the interpolation methods the engine can use.

Each method maps keyframes k, k+1 and ``α ∈ [0, 1]`` (the fraction of the way from t_k to
t_k+1) to planes (1, 3, C, N, N). ``nearest`` and ``linear`` are the baselines of the LIM
paper; ``linear`` is the engine's method until a LIM checkpoint is configured.
"""

from collections.abc import Callable

from lim_ros.engine.keyframe_buffer import Keyframe
from lim_ros.errors import ConfigError
import torch

Interpolator = Callable[[Keyframe, Keyframe, float], torch.Tensor]


def nearest(k0: Keyframe, k1: Keyframe, alpha: float) -> torch.Tensor:
    """Return the planes of the keyframe nearer in time (k at α < 0.5, else k+1)."""
    return k0.planes if alpha < 0.5 else k1.planes


def linear(k0: Keyframe, k1: Keyframe, alpha: float) -> torch.Tensor:
    """Return ``(1 - α) P_k + α P_k+1``, the planes blended feature by feature."""
    if alpha == 0.0:
        return k0.planes
    return torch.lerp(k0.planes, k1.planes, alpha)


METHODS: dict[str, Interpolator] = {'nearest': nearest, 'linear': linear}


def interpolator(method: str) -> Interpolator:
    """Return the interpolation method named ``method``."""
    if method not in METHODS:
        raise ConfigError(f'interpolation: expected one of {sorted(METHODS)}, got {method!r}')
    return METHODS[method]
