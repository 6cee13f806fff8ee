"""
What a multi-view generator gives the LRM: K images and the cameras they are seen from.

Convention: cameras are in the unit cube of the reconstruction volume (see
`lim_ros.engine.volume`), OpenCV convention, z up. A generator's views are at fixed poses
relative to the input camera, described by a `ViewLayout`: each view is the input camera
turned about the vertical axis through the volume centre by ``offsets_deg`` (azimuth,
counter-clockwise seen from above), at the input's elevation, or at the absolute
``elevations_deg`` where the model generates fixed elevations (Zero123++ v1.2: 20° and -10°),
always at the input camera's distance and looking at the centre. Generators are trained on
such cameras, so the input camera must look at the volume centre with a level horizon
(`check_orbit_camera`).
"""

from dataclasses import dataclass
import math
from typing import Protocol

from lim_ros.cameras import Cameras, intrinsics, look_at, orbit, spherical
from lim_ros.errors import ConfigError, ShapeError
import torch

ORBIT_TOLERANCE_DEG = 10.0  # largest miss of the volume centre and horizon roll accepted


@dataclass(frozen=True)
class ViewLayout:
    """The fixed relative poses of a generator's K views and how its output image is tiled."""

    offsets_deg: tuple[float, ...]  # (K,) azimuth of each view relative to the input
    elevations_deg: tuple[float, ...] = ()  # (K,) absolute elevations; empty: the input's
    rows: int = 1  # the pipeline's output image is a rows x cols grid of the K views,
    cols: int = 0  # row-major; 0 columns: K
    fov_deg: float = 0.0  # horizontal field of view of the views; 0: the input camera's
    elevation_argument: str = ''  # the pipeline's keyword for the input elevation, if any

    def __post_init__(self) -> None:
        """Reject inconsistent layouts, naming the field."""
        k = len(self.offsets_deg)
        if k == 0:
            raise ConfigError('offsets_deg: expected at least one view, got none')
        if self.elevations_deg and len(self.elevations_deg) != k:
            raise ConfigError(f'elevations_deg: expected {k} values (one per offset) or none, '
                              f'got {len(self.elevations_deg)}')
        if self.rows < 1 or self.columns < 1 or self.rows * self.columns != k:
            raise ConfigError(f'rows, cols: expected a grid of {k} views, got {self.rows} x '
                              f'{self.cols}')
        if not 0.0 <= self.fov_deg < 180.0:
            raise ConfigError(f'fov_deg: expected 0 (the input) or a field of view in (0, 180) '
                              f'degrees, got {self.fov_deg}')

    @property
    def columns(self) -> int:
        """Return how many views a grid row holds (K when ``cols`` is 0)."""
        return self.cols or len(self.offsets_deg)


@dataclass(frozen=True)
class GeneratedViews:
    """K generated views of one instant and their cameras (unit cube of the volume)."""

    images: torch.Tensor  # (K, 3, H, W) RGB in [0, 1]
    cameras: Cameras  # K cameras of H x W pixels
    prior: torch.Tensor | None = None  # (K, 3, H, W) the prior views it started from, if any


class MultiViewGenerator(Protocol):
    """One posed view in, K views at the fixed poses of ``layout`` out."""

    layout: ViewLayout

    def generate(self, view: torch.Tensor, camera: Cameras) -> GeneratedViews:
        """
        Generate the K views of ``view`` (3, H, W) in [0, 1], seen by ``camera`` (1 camera).

        The same input gives the same views (the initial noise is fixed per generator), so
        frames of one sequence are generated consistently.
        """


def with_generated(generator: MultiViewGenerator, view: torch.Tensor,
                   camera: Cameras) -> tuple[torch.Tensor, Cameras]:
    """Return ``view`` (3, H, W) and the K views generated from it, (1 + K, 3, H, W), posed."""
    generated = generator.generate(view, camera)
    return torch.cat([view[None], generated.images.cpu()]), camera.extend(generated.cameras)


def check_orbit_camera(camera: Cameras) -> None:
    """
    Raise ShapeError unless ``camera`` (1 camera, unit cube) looks at the centre, level.

    Its optical axis must pass within `ORBIT_TOLERANCE_DEG` of the volume centre and its x
    axis must be horizontal within the same angle, as in the generators' training data.
    """
    if len(camera) != 1:
        raise ShapeError(f'camera: expected 1 camera, got {len(camera)}')
    pose = camera.world_T_cam[0].double()
    to_centre = -pose[:3, 3] / pose[:3, 3].norm()
    miss = math.degrees(math.acos(float(torch.clamp(to_centre @ pose[:3, 2], -1.0, 1.0))))
    roll = math.degrees(math.asin(min(1.0, abs(float(pose[2, 0])))))
    if miss > ORBIT_TOLERANCE_DEG or roll > ORBIT_TOLERANCE_DEG:
        raise ShapeError(f'camera: a generator needs a camera looking at the volume centre with '
                         f'a level horizon (within {ORBIT_TOLERANCE_DEG}°), got one missing the '
                         f'centre by {miss:.1f}° with a roll of {roll:.1f}°')


def target_cameras(camera: Cameras, layout: ViewLayout) -> Cameras:
    """Return the K cameras of ``layout`` for the input ``camera`` (1 camera, unit cube)."""
    check_orbit_camera(camera)
    k = len(layout.offsets_deg)
    K = camera.K.expand(k, 3, 3).clone()
    if layout.fov_deg:
        K = intrinsics(torch.full((k,), layout.fov_deg), camera.height, camera.width)
    if not layout.elevations_deg:
        turned = orbit(camera, layout.offsets_deg)
        return Cameras(K, turned.world_T_cam, camera.height, camera.width)
    centre = camera.centres[0].double()
    azimuth = math.degrees(math.atan2(float(centre[1]), float(centre[0])))
    eye = spherical(azimuth + torch.tensor(layout.offsets_deg, dtype=torch.float64),
                    torch.tensor(layout.elevations_deg, dtype=torch.float64),
                    centre.norm().expand(k))
    return Cameras(K, look_at(eye).float(), camera.height, camera.width)
