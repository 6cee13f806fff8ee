"""
Deterministic training samples from the synthetic world, for DataLoader worker processes.

Sample i of a `WorldDataset` depends only on (config.seed, i): any number of workers, any
order, the same data. Each sample is one object seen by one static camera rig at T instants
t_0 < ... < t_{T-1} spanning ``gap`` seconds, with 3D point supervision at each instant.
With ``cameras='orbit'`` view 0 is a random camera and views 1 … V-1 are that camera turned
about the volume's vertical axis by ``orbit_offsets`` (the fixed relative poses a multi-view
diffusion model generates).
Canonical coordinates are positions at t_0, the sample's first instant (for T = 1 they
equal the points themselves).
"""

from dataclasses import dataclass, field
from typing import NamedTuple

from lim_ros.cameras import Cameras, orbit, random_cameras, rig
from lim_ros.errors import ConfigError
from lim_ros.render.sphere_tracer import render, RenderConfig
from lim_ros.world.families import check_families, make_object, SEEN_FAMILIES
import torch
from torch.utils.data import DataLoader, Dataset


@dataclass(frozen=True)
class DataConfig:
    """What each training sample contains."""

    families: tuple[str, ...] = SEEN_FAMILIES
    num_samples: int = 10_000
    seed: int = 0
    num_views: int = 4
    image_size: int = 64
    # 'random' views per sample, the standard 'rig' (4 or 6 views), or 'orbit': one random
    # view and its turns by orbit_offsets about the vertical axis
    cameras: str = 'random'
    orbit_offsets: tuple[float, ...] = (90.0, 180.0, 270.0)  # degrees, for cameras='orbit'
    num_times: int = 1
    gap_range: tuple[float, float] = (0.1, 0.6)  # seconds from the first to the last instant
    # Fixed fractions of the gap for the instants (0 first, 1 last); empty: random middles.
    time_fractions: tuple[float, ...] = ()
    duration: float = 4.0  # instants lie in [0, duration] seconds
    num_surface_points: int = 2048
    num_volume_points: int = 2048  # uniform in [-1, 1]^3
    num_near_points: int = 2048  # surface points plus Gaussian noise
    near_sigma: float = 0.03  # metres
    render: RenderConfig = field(default_factory=RenderConfig)

    def __post_init__(self) -> None:
        """Reject invalid values with the field's name."""
        check_families(self.families)
        if self.cameras not in ('random', 'rig', 'orbit'):
            raise ConfigError(f"cameras: expected 'random', 'rig' or 'orbit', "
                              f'got {self.cameras!r}')
        if self.cameras == 'orbit' and self.num_views != 1 + len(self.orbit_offsets):
            raise ConfigError(f'num_views: expected 1 + len(orbit_offsets) = '
                              f'{1 + len(self.orbit_offsets)} for orbit cameras, '
                              f'got {self.num_views}')
        positive = ('num_samples', 'num_views', 'image_size', 'num_times', 'num_surface_points')
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(f'{name}: expected a positive value, got {getattr(self, name)}')
        low, high = self.gap_range
        if not 0.0 <= low <= high <= self.duration:
            raise ConfigError(f'gap_range: expected 0 <= low <= high <= duration, got {low, high}')
        fractions = self.time_fractions
        if fractions and (len(fractions) != self.num_times or fractions[0] != 0.0
                          or fractions[-1] != 1.0 or list(fractions) != sorted(fractions)):
            raise ConfigError(f'time_fractions: expected {self.num_times} sorted values from 0 '
                              f'to 1, got {fractions}')


class WorldSample(NamedTuple):
    """
    One training sample (T instants, V views, Q query points, S surface points).

    A NamedTuple so that DataLoader's default collation stacks it into batches.
    """

    family: str
    object_seed: int
    times: torch.Tensor  # (T,) seconds
    rgb: torch.Tensor  # (T, V, 3, H, W) shaded
    albedo: torch.Tensor  # (T, V, 3, H, W) unshaded surface colour
    mask: torch.Tensor  # (T, V, 1, H, W)
    depth: torch.Tensor  # (T, V, 1, H, W) metres, 0 on background
    canonical_image: torch.Tensor  # (T, V, 3, H, W) position at t_0, 0 on background
    K: torch.Tensor  # (V, 3, 3)
    world_T_cam: torch.Tensor  # (V, 4, 4)
    query_points: torch.Tensor  # (T, Q, 3) uniform and near-surface points
    query_sdf: torch.Tensor  # (T, Q) signed pseudo-distance, negative inside
    surface_points: torch.Tensor  # (T, S, 3)
    surface_colours: torch.Tensor  # (T, S, 3)
    surface_canonical: torch.Tensor  # (T, S, 3) position at t_0

    def cameras(self) -> Cameras:
        """Return the sample's camera rig; only for an unbatched sample."""
        h, w = self.rgb.shape[-2:]
        return Cameras(self.K, self.world_T_cam, int(h), int(w))


class WorldDataset(Dataset):
    """Map-style dataset of `WorldSample`; sample i is a pure function of (seed, i)."""

    def __init__(self, config: DataConfig) -> None:
        """Wrap ``config``."""
        self.config = config

    def __len__(self) -> int:
        """Return the number of samples."""
        return self.config.num_samples

    def __getitem__(self, index: int) -> WorldSample:
        """Build sample ``index``: pick an object, cameras and instants, render and sample."""
        cfg = self.config
        if not 0 <= index < len(self):
            raise IndexError(f'index: expected 0 <= index < {len(self)}, got {index}')
        g = torch.Generator().manual_seed(cfg.seed * 1_000_003 + index)
        family = cfg.families[int(torch.randint(len(cfg.families), (1,), generator=g))]
        object_seed = int(torch.randint(2**31 - 1, (1,), generator=g))
        obj = make_object(family, object_seed)
        if cfg.cameras == 'rig':
            cameras = rig(cfg.num_views, cfg.image_size)
        elif cfg.cameras == 'orbit':  # view 0 random, then it turned by the offsets
            cameras = orbit(random_cameras(1, cfg.image_size, g), (0.0, *cfg.orbit_offsets))
        else:
            cameras = random_cameras(cfg.num_views, cfg.image_size, g)
        times = sample_times(cfg, g)
        t_ref = float(times[0])
        renders, queries, sdfs, surfaces = [], [], [], []
        for t in times.tolist():
            renders.append(render(obj, cameras, t, cfg.render, t_ref=t_ref))
            surface = obj.surface_samples(t, cfg.num_surface_points, g, t_ref=t_ref)
            near_idx = torch.randint(cfg.num_surface_points, (cfg.num_near_points,), generator=g)
            near = surface.points[near_idx]
            near = near + cfg.near_sigma * torch.randn(near.shape, generator=g)
            uniform = 2.0 * torch.rand(cfg.num_volume_points, 3, generator=g) - 1.0
            query = torch.cat([uniform, near.clamp(-1.0, 1.0)])
            queries.append(query)
            sdfs.append(obj.sdf(query, t))
            surfaces.append(surface)
        return WorldSample(
            family=family,
            object_seed=object_seed,
            times=times,
            rgb=torch.stack([r.rgb for r in renders]),
            albedo=torch.stack([r.albedo for r in renders]),
            mask=torch.stack([r.mask for r in renders]),
            depth=torch.stack([r.depth for r in renders]),
            canonical_image=torch.stack([r.canonical for r in renders]),
            K=cameras.K,
            world_T_cam=cameras.world_T_cam,
            query_points=torch.stack(queries),
            query_sdf=torch.stack(sdfs),
            surface_points=torch.stack([s.points for s in surfaces]),
            surface_colours=torch.stack([s.colours for s in surfaces]),
            surface_canonical=torch.stack([s.canonical for s in surfaces]),
        )


def sample_times(cfg: DataConfig, generator: torch.Generator) -> torch.Tensor:
    """
    Instants (T,): t_0 uniform, t_{T-1} = t_0 + gap, the ones between at ``time_fractions``.

    Without ``time_fractions`` the instants between are uniform and sorted.
    """
    low, high = cfg.gap_range
    gap = low + (high - low) * float(torch.rand((), generator=generator))
    start = (cfg.duration - gap) * float(torch.rand((), generator=generator))
    if cfg.num_times == 1:
        return torch.tensor([start])
    if cfg.time_fractions:
        return start + gap * torch.tensor(cfg.time_fractions)
    middle = torch.rand(cfg.num_times - 2, generator=generator).sort().values
    fractions = torch.cat([torch.zeros(1), middle, torch.ones(1)])
    return start + gap * fractions


def _single_thread_worker(worker_id: int) -> None:
    torch.set_num_threads(1)


def make_loader(config: DataConfig, batch_size: int, num_workers: int = 0,
                shuffle: bool = False) -> DataLoader:
    """Return a DataLoader over `WorldDataset` with ``num_workers`` single-thread workers."""
    return DataLoader(
        WorldDataset(config),
        batch_size=batch_size,
        num_workers=num_workers,
        shuffle=shuffle,
        worker_init_fn=_single_thread_worker if num_workers else None,
        persistent_workers=num_workers > 0,
    )
