"""
Supervision of a decoded triplane at one instant of a batch: the LRM's and LIM's shared terms.

Points (uniform and near-surface query points with their SDF, surface points with colour and
canonical position) are drawn from the batch at ``time_index``; rays come from the views not
given as input (`make_view_batch`). The terms are those of `lrm_losses`, unweighted.
"""

from collections.abc import Callable
from typing import Protocol

from lim_ros.data.dataset import WorldSample
from lim_ros.models.decoder import FieldOutput
from lim_ros.models.volume_renderer import render_rays
from lim_ros.training.batches import ViewBatch
from lim_ros.training.lrm_losses import point_losses, render_losses
import torch


class FieldSampling(Protocol):
    """The fields of a trainer's config that say how many samples the terms use (read-only)."""

    @property
    def query_points(self) -> int: ...

    @property
    def surface_points(self) -> int: ...

    @property
    def render_samples(self) -> int: ...

    @property
    def beta(self) -> float: ...

    @property
    def truncation(self) -> float: ...

    @property
    def device(self) -> str: ...


def field_losses(decode: Callable[[torch.Tensor], FieldOutput], batch: WorldSample,
                 time_index: int, views: ViewBatch, cfg: FieldSampling,
                 g: torch.Generator) -> dict[str, torch.Tensor]:
    """Return the point and rendering terms of ``decode`` (points (B, N, 3) → fields)."""
    device = torch.device(cfg.device)
    q = torch.randint(batch.query_points.shape[2], (cfg.query_points,), generator=g)
    s = torch.randint(batch.surface_points.shape[2], (cfg.surface_points,), generator=g)
    query = decode(batch.query_points[:, time_index, q].to(device))
    surface = decode(batch.surface_points[:, time_index, s].to(device))
    terms = point_losses(query, batch.query_sdf[:, time_index, q].to(device), surface,
                         batch.surface_colours[:, time_index, s].to(device),
                         batch.surface_canonical[:, time_index, s].to(device), cfg.truncation)
    rays = render_rays(decode, views.ray_origins.to(device), views.ray_dirs.to(device),
                       cfg.render_samples, cfg.beta, g)
    terms.update(render_losses(rays, views.ray_targets.to(device)))
    return terms
