"""
Turning stacked `WorldSample`s into model inputs: view split, Plücker rays and sampled rays.

Each step splits the V rendered views of a sample into V_in input views and V - V_in novel
views (the same split for the whole batch); rendering losses use rays of the novel views only.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lim_ros.cameras import Cameras
from lim_ros.data.dataset import WorldSample
from lim_ros.training.lrm_losses import RayTargets
import torch


@dataclass(frozen=True)
class ViewBatch:
    """Input views and novel-view rays of B samples at one instant."""

    rgb: torch.Tensor  # (B, V_in, 3, H, W)
    K: torch.Tensor  # (B, V_in, 3, 3)
    world_T_cam: torch.Tensor  # (B, V_in, 4, 4)
    ray_origins: torch.Tensor  # (B, N, 3)
    ray_dirs: torch.Tensor  # (B, N, 3)
    ray_targets: RayTargets


def stack_samples(samples: list[WorldSample]) -> WorldSample:
    """Stack samples along a new first axis (families and seeds become tuples)."""
    # Any: WorldSample's field types are a single sample's, without a batch's tuples
    columns: Iterator[Any] = (
        tuple(values) if isinstance(values[0], (str, int)) else torch.stack(values)
        for values in zip(*samples)
    )
    return WorldSample(*columns)


def batch_cameras(batch: WorldSample) -> list[Cameras]:
    """Return the cameras of every sample of a stacked batch."""
    h, w = batch.rgb.shape[-2:]
    return [Cameras(k, pose, int(h), int(w)) for k, pose in zip(batch.K, batch.world_T_cam)]


def make_view_batch(
    batch: WorldSample,
    time_index: int,
    input_views: torch.Tensor,
    num_rays: int,
    generator: torch.Generator,
    foreground_bias: float = 3.0,
) -> ViewBatch:
    """
    Split views at instant ``time_index`` of a stacked batch into inputs and novel-view rays.

    ``input_views`` (V_in,) indexes the views given to the model. Rays are drawn from the
    other views with object pixels ``foreground_bias`` times likelier than background ones.
    """
    v = batch.rgb.shape[2]
    novel = torch.tensor([i for i in range(v) if i not in set(input_views.tolist())],
                         dtype=torch.long)
    origins, dirs, albedo, mask, distance = [], [], [], [], []
    for i, cams in enumerate(batch_cameras(batch)):
        o, d = cams.rays()
        forward = cams.world_T_cam[:, None, None, :3, 2]
        dist = batch.depth[i, time_index, :, 0] / (d * forward).sum(dim=-1)
        m = batch.mask[i, time_index, novel, 0].reshape(-1)
        pick = torch.multinomial(1.0 + foreground_bias * m, num_rays, replacement=True,
                                 generator=generator)
        origins.append(o[novel].reshape(-1, 3)[pick])
        dirs.append(d[novel].reshape(-1, 3)[pick])
        albedo.append(batch.albedo[i, time_index, novel].permute(0, 2, 3, 1).reshape(-1, 3)[pick])
        mask.append(m[pick])
        distance.append(dist[novel].reshape(-1)[pick])
    return ViewBatch(
        rgb=batch.rgb[:, time_index, input_views],
        K=batch.K[:, input_views],
        world_T_cam=batch.world_T_cam[:, input_views],
        ray_origins=torch.stack(origins),
        ray_dirs=torch.stack(dirs),
        ray_targets=RayTargets(torch.stack(albedo), torch.stack(mask), torch.stack(distance)),
    )
