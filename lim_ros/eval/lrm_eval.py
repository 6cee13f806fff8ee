"""
``lim-ros eval lrm``: reconstruction quality of an LRM next to a visual hull from the same views.

For every object of a fixed set (seen and held-out families separately), both methods get the
same V posed input views of one instant and are scored against the exact ground truth:
volumetric IoU on a grid over the volume, Chamfer-L1 and F-score@τ between their marching-cubes
mesh and exact surface samples, and PSNR on novel views (not given as input) rendered by the
same sphere tracer as the ground truth. The LRM's field is rendered with its predicted albedo
and the ground truth's shading; the visual hull (a signed distance to the carved occupancy)
carries colours projected from the input images, which are already shaded, so it is rendered
unshaded (ambient 1).
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import imageio.v3 as iio
from lim_ros.bench.report import mean_of_known, report
from lim_ros.cameras import Cameras
from lim_ros.data.dataset import DataConfig, WorldDataset, WorldSample
from lim_ros.data.preview import grid
from lim_ros.engine.extraction import SDF_CLAMP
from lim_ros.errors import ShapeError
from lim_ros.geometry.grid import evaluate_on_grid, grid_points, grid_spacing
from lim_ros.geometry.mesh import extract_mesh
from lim_ros.geometry.visual_hull import (
    occupancy_sdf_grid,
    visual_hull_colours,
    visual_hull_occupancy,
)
from lim_ros.metrics import chamfer, f_score, psnr, volumetric_iou
from lim_ros.models.decoder import FieldOutput
from lim_ros.models.lrm import LRM
from lim_ros.render.fields import GridField
from lim_ros.render.sphere_tracer import render, RenderConfig
from lim_ros.world.dynamic_object import DynamicObject
from lim_ros.world.families import HELD_OUT_FAMILIES, make_object, SEEN_FAMILIES
import numpy as np
from scipy import ndimage
import torch

METHODS = ('lrm', 'visual_hull')


@dataclass(frozen=True)
class LRMEvalConfig:
    """The fixed evaluation set and how it is scored."""

    samples_per_split: int = 16
    seed: int = 20_000
    input_views: int = 4
    novel_views: int = 2
    grid_resolution: int = 64
    surface_points: int = 10_000
    f_score_tau: float = 0.02  # metres in the unit-cube volume
    sdf_clamp: float = SDF_CLAMP


def evaluation_set(cfg: LRMEvalConfig, image_size: int, split: str) -> list[WorldSample]:
    """Return the fixed samples of ``split`` ('seen' or 'held_out')."""
    families = SEEN_FAMILIES if split == 'seen' else HELD_OUT_FAMILIES
    data = DataConfig(families=families, num_samples=cfg.samples_per_split,
                      seed=cfg.seed + (split == 'held_out'), image_size=image_size,
                      num_views=cfg.input_views + cfg.novel_views, num_surface_points=16,
                      num_volume_points=16, num_near_points=16)
    dataset = WorldDataset(data)
    return [dataset[i] for i in range(len(dataset))]


def _geometry_scores(occupancy: torch.Tensor, sdf_grid: torch.Tensor, truth: torch.Tensor,
                     surface: torch.Tensor, cfg: LRMEvalConfig) -> dict[str, float]:
    """Return the IoU of ``occupancy`` and Chamfer, F-score of the mesh of ``sdf_grid``."""
    iou = volumetric_iou(occupancy, truth)
    try:
        mesh = extract_mesh(sdf_grid)
    except ShapeError:  # an empty reconstruction: no surface to compare
        return {'iou': iou, 'chamfer_l1': float('nan'), 'f_score': 0.0}
    points = mesh.sample(cfg.surface_points, torch.Generator().manual_seed(0))
    return {'iou': iou, 'chamfer_l1': chamfer(points, surface).l1,
            'f_score': f_score(points, surface, cfg.f_score_tau).f_score}


def signed_distance_grid(occupancy: torch.Tensor, resolution: int) -> torch.Tensor:
    """Return the signed distance (R, R, R), metres, to an occupancy grid's boundary."""
    occ = occupancy.cpu().numpy()
    inside = ndimage.distance_transform_edt(occ)
    outside = ndimage.distance_transform_edt(~occ)
    return torch.from_numpy((outside - inside).astype(np.float32)) * grid_spacing(resolution)


@dataclass(frozen=True)
class GroundTruth:
    """What a reconstruction of one instant is scored against."""

    occupancy: torch.Tensor  # (R, R, R) bool, the exact object on the scoring grid
    surface: torch.Tensor  # (S, 3) exact surface samples
    novel: Cameras  # views not given to the method
    target: torch.Tensor  # (V_novel, 3, H, W) the true images from them
    t: float  # seconds


def ground_truth(obj: DynamicObject, t: float, novel: Cameras, target: torch.Tensor,
                 cfg: LRMEvalConfig) -> GroundTruth:
    """Return the scoring grid, surface samples and novel views of ``obj`` at ``t``."""
    truth = evaluate_on_grid(lambda p: obj.sdf(p, t), cfg.grid_resolution) < 0
    surface = obj.surface_samples(t, cfg.surface_points, torch.Generator().manual_seed(1)).points
    return GroundTruth(truth, surface, novel, target, t)


@torch.no_grad()
def score_field(decode: Callable[[torch.Tensor], FieldOutput], truth: GroundTruth,
                cfg: LRMEvalConfig, images: list | None = None) -> dict[str, float]:
    """
    Score a decoded field (points (1, N, 3) → fields): IoU, Chamfer-L1, F-score and PSNR.

    The field is rendered from the novel views with its albedo and the ground truth's
    shading; with ``images`` given, the renders (V_novel, 3, H, W) are appended.
    """
    device = truth.occupancy.device
    grid = evaluate_on_grid(lambda p: decode(p[None]).sdf[0].to(device), cfg.grid_resolution)
    scores = _geometry_scores(grid < 0, grid, truth.occupancy, truth.surface, cfg)
    field = GridField(grid.clamp(-cfg.sdf_clamp, cfg.sdf_clamp),
                      lambda p: decode(p[None]).albedo[0].to(device))
    rgb = render(field, truth.novel, truth.t).rgb
    if images is not None:
        images.append(rgb)
    return {**scores, 'psnr': psnr(rgb, truth.target)}


@torch.no_grad()
def evaluate_sample(model: LRM, sample: WorldSample, cfg: LRMEvalConfig,
                    images: list | None = None) -> dict[str, dict]:
    """
    Score both methods on one sample; return {method: {metric: value}}.

    With ``images`` given, append the novel views (3, H, W) of the ground truth, the LRM and
    the visual hull, for comparison figures.
    """
    device = next(model.parameters()).device
    obj = make_object(sample.family, sample.object_seed)
    v = cfg.input_views
    cams = sample.cameras()
    inputs, novel = cams.select(slice(v)), cams.select(slice(v, None))
    rgb, masks = sample.rgb[0, :v], sample.mask[0, :v]
    truth = ground_truth(obj, float(sample.times[0]), novel, sample.rgb[0, v:], cfg)

    out = model.reconstruct(rgb.to(device), inputs.to(device))
    renders: list[torch.Tensor] = []
    lrm = score_field(lambda p: model.decode(out.planes, p.to(device)), truth, cfg, renders)

    r = cfg.grid_resolution
    hull_occupancy = visual_hull_occupancy(masks, inputs, grid_points(r)).reshape(r, r, r)
    hull = _geometry_scores(hull_occupancy, occupancy_sdf_grid(hull_occupancy),
                            truth.occupancy, truth.surface, cfg)
    hull_field = GridField(signed_distance_grid(hull_occupancy, r),
                           lambda p: visual_hull_colours(rgb, masks, inputs, p, fill=1.0))
    hull_rgb = render(hull_field, novel, truth.t, RenderConfig(ambient=1.0)).rgb
    hull['psnr'] = psnr(hull_rgb, truth.target)
    if images is not None:
        images.append(torch.stack([truth.target, renders[0], hull_rgb], dim=1))
    return {'lrm': lrm, 'visual_hull': hull}


def run(model: LRM, cfg: LRMEvalConfig, out: Path, figures: Path | None = None,
        figure_objects: int = 4) -> list[dict]:
    """
    Evaluate on both splits; print the table, write JSON and return the rows.

    With ``figures``, also write ``<split>.png`` there: for the first ``figure_objects``
    objects of each split, rows of novel views with columns ground truth, LRM, visual hull.
    """
    rows = []
    for split in ('seen', 'held_out'):
        images: list[torch.Tensor] = []
        scores = [evaluate_sample(model, s, cfg, images if i < figure_objects else None)
                  for i, s in enumerate(evaluation_set(cfg, model.config.image_size, split))]
        if figures is not None:
            figures.mkdir(parents=True, exist_ok=True)
            iio.imwrite(figures / f'{split}.png', grid(torch.cat(images)))
        for method in METHODS:
            values = {k: [s[method][k] for s in scores] for k in scores[0][method]}
            rows.append({'split': split, 'method': method, 'objects': len(scores),
                         **{k: float(mean_of_known(v)) for k, v in values.items()}})
    report(f'eval lrm: {cfg.input_views} input views, grid {cfg.grid_resolution}^3, '
           f'F-score at {cfg.f_score_tau} m', rows, out)
    return rows
