"""
Triplanes between keyframes: the interpolation methods the engine can use.

Each method maps keyframes k, k+1 and ``α ∈ [0, 1]`` (the fraction of the way from t_k to
t_k+1) to planes (1, 3, C, N, N). ``lim`` is the Large Interpolator Model; ``nearest`` and
``linear`` are the baselines of the LIM paper; ``triplane_flow`` warps both keyframes along
the flow found by matching their planes (`TriplaneFlow`, no learning).
"""

from collections.abc import Callable

from lim_ros.engine.keyframe_buffer import Keyframe
from lim_ros.errors import ConfigError
from lim_ros.interp.triplane_flow import TriplaneFlow
from lim_ros.models.lim import LIM
from lim_ros.models.lrm import blend, LRMOutput
import torch

Interpolator = Callable[[Keyframe, Keyframe, float], torch.Tensor]
METHODS = ('lim', 'linear', 'nearest', 'triplane_flow')


def _output(keyframe: Keyframe) -> LRMOutput:
    return LRMOutput(planes=keyframe.planes, features=keyframe.features)


def nearest(k0: Keyframe, k1: Keyframe, alpha: float) -> torch.Tensor:
    """Return the planes of the keyframe nearer in time (k at α < 0.5, else k+1)."""
    return k0.planes if alpha < 0.5 else k1.planes


def linear(k0: Keyframe, k1: Keyframe, alpha: float) -> torch.Tensor:
    """Return ``(1 - α) P_k + α P_k+1``, the planes blended feature by feature (exact at 0, 1)."""
    return blend(_output(k0), _output(k1), alpha).planes


class FlowBetweenKeyframes:
    """``triplane_flow``: `TriplaneFlow` between keyframes, the last pair's flows kept."""

    def __init__(self) -> None:
        """Create the matcher; no flows are kept yet."""
        self.method = TriplaneFlow()
        self._pair: tuple[Keyframe, Keyframe] | None = None
        self._flows: tuple[torch.Tensor, torch.Tensor] | None = None

    def __call__(self, k0: Keyframe, k1: Keyframe, alpha: float) -> torch.Tensor:
        """Return the planes at α; queries between the same keyframes match them once."""
        if alpha == 0.0:
            return k0.planes
        if self._pair is None or self._pair[0] is not k0 or self._pair[1] is not k1:
            self._pair, self._flows = (k0, k1), self.method.flows(_output(k0), _output(k1))
        return self.method(_output(k0), _output(k1), alpha, self._flows).planes


def interpolator(method: str, lim: LIM | None = None) -> Interpolator:
    """Return the interpolation method named ``method`` (``lim`` needs the model)."""
    if method == 'nearest':
        return nearest
    if method == 'linear':
        return linear
    if method == 'triplane_flow':
        return FlowBetweenKeyframes()
    if method != 'lim':
        raise ConfigError(f'interpolation: expected one of {METHODS}, got {method!r}')
    if lim is None:
        raise ConfigError("interpolation: 'lim' needs a LIM model")

    def with_lim(k0: Keyframe, k1: Keyframe, alpha: float) -> torch.Tensor:
        if alpha == 0.0:  # a keyframe's own stamp: its own planes (LIM is not exact there)
            return k0.planes
        a = torch.tensor([alpha], dtype=k0.features.dtype, device=k0.features.device)
        return lim(_output(k0), _output(k1), a).planes

    return with_lim
