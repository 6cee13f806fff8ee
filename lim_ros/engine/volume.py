"""
The reconstruction volume: an axis-aligned box in ``volume_frame`` and its unit cube.

Convention: the models work in the unit cube [-1, 1]^3; the box has centre ``center``
(metres, in the volume frame, REP 103) and edge length ``size`` (metres), so a point maps as
``p_volume = center + (size / 2) * p_unit``. Rotations are shared: only translation and scale
differ, so a camera pose maps by moving its centre, and its intrinsics are unchanged.
"""

from dataclasses import dataclass
import math

from lim_ros.cameras import Cameras
from lim_ros.errors import ConfigError
import torch


@dataclass(frozen=True)
class Volume:
    """The box the models reconstruct, in the volume frame."""

    center: tuple[float, ...] = (0.0, 0.0, 0.0)  # three numbers, checked
    size: float = 2.0

    def __post_init__(self) -> None:
        """Validate the centre and the size."""
        if len(self.center) != 3 or not all(math.isfinite(float(c)) for c in self.center):
            raise ConfigError(f'volume_center: expected 3 finite numbers, got {self.center!r}')
        if not 0.0 < float(self.size) < math.inf:
            raise ConfigError(f'volume_size: expected a positive finite length in metres, '
                              f'got {self.size!r}')

    @property
    def half_size(self) -> float:
        """Return half the edge length, metres: the scale from the unit cube to the volume."""
        return float(self.size) / 2.0

    def _center(self, like: torch.Tensor) -> torch.Tensor:
        return torch.tensor(self.center, dtype=like.dtype, device=like.device)

    def to_volume(self, unit: torch.Tensor) -> torch.Tensor:
        """Map points (..., 3) from the unit cube to the volume frame (metres)."""
        return self._center(unit) + self.half_size * unit

    def to_unit(self, points: torch.Tensor) -> torch.Tensor:
        """Map points (..., 3) in the volume frame (metres) to the unit cube."""
        return (points - self._center(points)) / self.half_size

    def cameras_to_unit(self, cameras: Cameras) -> Cameras:
        """Express cameras posed in the volume frame in the unit cube (intrinsics unchanged)."""
        pose = cameras.world_T_cam.clone()
        pose[:, :3, 3] = self.to_unit(pose[:, :3, 3])
        return Cameras(cameras.K, pose, cameras.height, cameras.width)
