"""
Pinhole cameras in OpenCV convention, standard rigs, random views and Plücker rays.

Convention: camera frame x right, y down, z forward; ``world_T_cam`` (V, 4, 4) maps camera
coordinates to the world (the volume frame, z up). Intrinsics ``K`` (V, 3, 3) are in pixels
with pixel (u, v) covering [u, u+1) x [v, v+1), so its centre is at (u + 0.5, v + 0.5).
"""

from dataclasses import dataclass

from lim_ros.errors import check_shape, ShapeError
import torch

WORLD_UP = torch.tensor([0.0, 0.0, 1.0])
OBJECT_RADIUS = 0.9  # metres: synthetic objects stay within this distance of the centre


@dataclass(frozen=True)
class Cameras:
    """V pinhole cameras sharing one image size."""

    K: torch.Tensor  # (V, 3, 3) intrinsics, pixels
    world_T_cam: torch.Tensor  # (V, 4, 4) camera-to-world
    height: int
    width: int

    def __post_init__(self) -> None:
        """Validate shapes and values."""
        v = self.K.shape[0]
        check_shape('K', tuple(self.K.shape), (None, 3, 3))
        check_shape('world_T_cam', tuple(self.world_T_cam.shape), (v, 4, 4))
        if self.height <= 0 or self.width <= 0:
            raise ShapeError(f'image size: expected positive, got {self.height}x{self.width}')
        if not (torch.isfinite(self.K).all() and torch.isfinite(self.world_T_cam).all()):
            raise ShapeError('cameras: expected finite K and world_T_cam, found NaN or inf')

    def __len__(self) -> int:
        """Return the number of views V."""
        return self.K.shape[0]

    @property
    def centres(self) -> torch.Tensor:
        """Camera centres in the world (V, 3)."""
        return self.world_T_cam[:, :3, 3]

    def select(self, views: slice | torch.Tensor) -> 'Cameras':
        """Return the cameras ``views`` (a slice or an index tensor) of this set."""
        return Cameras(self.K[views], self.world_T_cam[views], self.height, self.width)

    def extend(self, other: 'Cameras') -> 'Cameras':
        """Return these cameras followed by ``other`` (same image size, same device)."""
        return Cameras(torch.cat([self.K, other.K]),
                       torch.cat([self.world_T_cam, other.world_T_cam]), self.height, self.width)

    def to(self, device: torch.device | str) -> 'Cameras':
        """Move to ``device``."""
        return Cameras(self.K.to(device), self.world_T_cam.to(device), self.height, self.width)

    def rays(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Return world ray origins and unit directions, each (V, H, W, 3), at pixel centres."""
        device, dtype = self.K.device, self.K.dtype
        v_idx, u_idx = torch.meshgrid(
            torch.arange(self.height, device=device, dtype=dtype) + 0.5,
            torch.arange(self.width, device=device, dtype=dtype) + 0.5,
            indexing='ij',
        )
        pixels = torch.stack([u_idx, v_idx, torch.ones_like(u_idx)], dim=-1)  # (H, W, 3)
        cam_dirs = torch.einsum('vij,hwj->vhwi', torch.linalg.inv(self.K), pixels)
        dirs = torch.einsum('vij,vhwj->vhwi', self.world_T_cam[:, :3, :3], cam_dirs)
        dirs = dirs / dirs.norm(dim=-1, keepdim=True)
        origins = self.centres[:, None, None, :].expand_as(dirs)
        return origins, dirs

    def plucker(self) -> torch.Tensor:
        """Plücker ray embedding (V, 6, H, W): unit direction d and moment o x d, world frame."""
        origins, dirs = self.rays()
        moment = torch.linalg.cross(origins, dirs, dim=-1)
        return torch.cat([dirs, moment], dim=-1).permute(0, 3, 1, 2).contiguous()

    def unproject(self, depth: torch.Tensor) -> torch.Tensor:
        """World points (V, H, W, 3) seen at each pixel with camera-frame depth (V, 1, H, W)."""
        check_shape('depth', tuple(depth.shape), (len(self), 1, self.height, self.width))
        origins, dirs = self.rays()
        forward = self.world_T_cam[:, None, None, :3, 2]
        along_ray = depth[:, 0] / (dirs * forward).sum(dim=-1)
        return origins + along_ray[..., None] * dirs

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Pixel coordinates (V, N, 2) and camera-frame depth (V, N) of world points (N, 3)."""
        cam_T_world = torch.linalg.inv(self.world_T_cam)
        cam = torch.einsum('vij,nj->vni', cam_T_world[:, :3, :3], points)
        cam = cam + cam_T_world[:, None, :3, 3]
        uvw = torch.einsum('vij,vnj->vni', self.K, cam)
        return uvw[..., :2] / uvw[..., 2:3], cam[..., 2]


def look_at(eye: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """
    Camera-to-world poses (V, 4, 4) for cameras at ``eye`` (V, 3) looking at ``target`` (3,).

    The image's y axis points away from world +z (the horizon is level). Cameras straight
    above or below the target use world +y as the reference instead.
    """
    target = torch.zeros(3, dtype=eye.dtype) if target is None else target
    forward = target - eye
    forward = forward / forward.norm(dim=-1, keepdim=True)
    up = WORLD_UP.to(eye.dtype).expand_as(forward)
    vertical = torch.linalg.cross(forward, up, dim=-1).norm(dim=-1, keepdim=True) < 1e-6
    up = torch.where(vertical, torch.tensor([0.0, 1.0, 0.0], dtype=eye.dtype), up)
    right = torch.linalg.cross(forward, up, dim=-1)
    right = right / right.norm(dim=-1, keepdim=True)
    down = torch.linalg.cross(forward, right, dim=-1)
    pose = torch.eye(4, dtype=eye.dtype).repeat(eye.shape[0], 1, 1)
    pose[:, :3, :3] = torch.stack([right, down, forward], dim=-1)
    pose[:, :3, 3] = eye
    return pose


def intrinsics(fov_deg: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Intrinsics (V, 3, 3) with horizontal field of view ``fov_deg`` (V,), square pixels."""
    focal = 0.5 * width / torch.tan(torch.deg2rad(fov_deg) / 2.0)
    k = torch.zeros(fov_deg.shape[0], 3, 3)
    k[:, 0, 0] = focal
    k[:, 1, 1] = focal
    k[:, 0, 2] = width / 2.0
    k[:, 1, 2] = height / 2.0
    k[:, 2, 2] = 1.0
    return k


def spherical(
    azimuth_deg: torch.Tensor, elevation_deg: torch.Tensor, radius: torch.Tensor
) -> torch.Tensor:
    """Points (V, 3) on spheres around the origin; azimuth from +x towards +y, elevation up."""
    az, el = torch.deg2rad(azimuth_deg), torch.deg2rad(elevation_deg)
    return torch.stack(
        [radius * torch.cos(el) * torch.cos(az), radius * torch.cos(el) * torch.sin(az),
         radius * torch.sin(el)],
        dim=-1,
    )


def rig(num_views: int, size: int, radius: float = 3.0, fov_deg: float = 40.0) -> Cameras:
    """
    Build a standard rig looking at the volume centre from ``radius`` metres.

    4 views every 90° at 20° elevation, or 6 views every 60° with elevations alternating
    20° and -10°, as multi-view diffusion models use.
    """
    if num_views == 4:
        azimuth = torch.tensor([45.0, 135.0, 225.0, 315.0])
        elevation = torch.full((4,), 20.0)
    elif num_views == 6:
        azimuth = torch.arange(6) * 60.0 + 30.0
        elevation = torch.tensor([20.0, -10.0] * 3)
    else:
        raise ShapeError(f'num_views: expected 4 or 6 for a standard rig, got {num_views}')
    eye = spherical(azimuth, elevation, torch.full((num_views,), radius))
    return Cameras(intrinsics(torch.full((num_views,), fov_deg), size, size), look_at(eye),
                   size, size)


def random_cameras(
    num_views: int,
    size: int,
    generator: torch.Generator,
    radius_range: tuple[float, float] = (2.4, 3.6),
    fov_range: tuple[float, float] = (30.0, 50.0),
    elevation_range: tuple[float, float] = (-30.0, 60.0),
) -> Cameras:
    """
    Random views looking at the volume centre from a random radius, elevation and focal length.

    The field of view is widened where needed so that the sphere of radius
    `OBJECT_RADIUS` around the centre (where world objects live) stays in view.
    """
    def draw(low: float, high: float) -> torch.Tensor:
        return low + (high - low) * torch.rand(num_views, generator=generator)

    azimuth = draw(0.0, 360.0)
    elevation = draw(*elevation_range)
    radius = draw(*radius_range)
    fov = draw(*fov_range)
    min_fov = torch.rad2deg(2.0 * torch.asin(OBJECT_RADIUS / radius))
    fov = torch.maximum(fov, min_fov)
    eye = spherical(azimuth, elevation, radius)
    return Cameras(intrinsics(fov, size, size), look_at(eye), size, size)


def orbit(cameras: Cameras, offsets_deg: tuple[float, ...]) -> Cameras:
    """
    Cameras (V·O) rotated about the world's vertical (z) axis through the volume centre.

    Each of the V cameras is turned by every azimuth offset in ``offsets_deg`` (O, degrees,
    counter-clockwise seen from above, as `spherical`'s azimuth): view v·O + o is camera v
    turned by offset o. Intrinsics, distance to the axis and elevation are kept.
    """
    if not offsets_deg:
        raise ShapeError('offsets_deg: expected at least one azimuth offset, got none')
    angles = torch.deg2rad(torch.tensor(offsets_deg, dtype=cameras.K.dtype,
                                        device=cameras.K.device))
    rotation = torch.eye(4, dtype=angles.dtype, device=angles.device).repeat(len(angles), 1, 1)
    rotation[:, 0, 0] = torch.cos(angles)
    rotation[:, 0, 1] = -torch.sin(angles)
    rotation[:, 1, 0] = torch.sin(angles)
    rotation[:, 1, 1] = torch.cos(angles)
    poses = torch.einsum('oij,vjk->voik', rotation, cameras.world_T_cam).flatten(0, 1)
    intrinsics_ = cameras.K.repeat_interleave(len(angles), dim=0)
    return Cameras(intrinsics_, poses, cameras.height, cameras.width)


def elevation_deg(cameras: Cameras) -> torch.Tensor:
    """Elevation (V,) in degrees of each camera centre seen from the volume centre."""
    centres = cameras.centres
    return torch.rad2deg(torch.asin(centres[:, 2] / centres.norm(dim=-1)))
