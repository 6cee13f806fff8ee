"""
Geometry metrics for 3D reconstruction: Chamfer distance, F-score, IoU, surface sampling.

Nearest neighbours are exact: a ``scipy.spatial.cKDTree`` built on CPU float64 copies of the
points. Tensors may live on any device; results are Python floats.
"""

from dataclasses import dataclass
from typing import Any

from lim_ros.errors import check_shape, ConfigError, ShapeError
import numpy as np
import torch


@dataclass(frozen=True)
class ChamferResult:
    """Chamfer distance between two point sets, in the units of the points (squared for l2)."""

    l1: float
    l2: float
    pred_to_gt_l1: float
    gt_to_pred_l1: float


@dataclass(frozen=True)
class FScoreResult:
    """Precision, recall and F-score at one distance threshold, each in [0, 1]."""

    precision: float
    recall: float
    f_score: float


def _check_real_tensor(name: str, value: object) -> torch.Tensor:
    """Return `value` if it is a non-empty, finite, real torch tensor; raise ShapeError if not."""
    if not isinstance(value, torch.Tensor):
        raise ShapeError(f'{name}: expected a torch.Tensor, got {type(value).__name__}')
    if value.dtype == torch.bool or value.is_complex():
        raise ShapeError(f'{name}: expected a real-valued tensor, got dtype {value.dtype}')
    if value.numel() == 0:
        raise ShapeError(f'{name}: expected a non-empty tensor, got shape {tuple(value.shape)}')
    if not bool(torch.isfinite(value).all()):
        raise ShapeError(f'{name}: expected finite values, found NaN or inf')
    return value


def _positive_finite(name: str, value: Any) -> float:
    """Return `value` as a float if it is a positive finite real number; raise ConfigError."""
    try:
        number = float(value) if not isinstance(value, bool) else float('nan')
    except (TypeError, ValueError, RuntimeError):
        number = float('nan')
    if not 0.0 < number < float('inf'):
        raise ConfigError(f'{name}: expected a positive finite number, got {value!r}')
    return number


def _points_to_numpy(name: str, points: object) -> np.ndarray:
    """Validate an (N, 3) point tensor with N >= 1 and return a CPU float64 numpy copy."""
    if isinstance(points, torch.Tensor):
        check_shape(name, tuple(points.shape), (None, 3))
    points = _check_real_tensor(name, points)
    return points.detach().to(device='cpu', dtype=torch.float64).numpy()


def _nearest_distances(query: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Return, for each query point, the Euclidean distance to its nearest reference point."""
    from scipy.spatial import cKDTree

    distances, _ = cKDTree(reference).query(query, k=1)
    return distances


def chamfer(pred: torch.Tensor, gt: torch.Tensor) -> ChamferResult:
    """
    Compute the symmetric Chamfer distance between predicted and ground-truth point sets.

    Convention: with d(p, G) the Euclidean distance from p to its nearest neighbour in G,
    ``pred_to_gt_l1 = mean_p d(p, gt)``, ``gt_to_pred_l1 = mean_g d(g, pred)``,
    ``l1 = 0.5 * (pred_to_gt_l1 + gt_to_pred_l1)`` (same units as the points) and
    ``l2 = 0.5 * (mean_p d(p, gt)**2 + mean_g d(g, pred)**2)`` (squared units, no square
    root). Both directions are averaged over their own set, so N and M may differ.

    :param pred: predicted points, shape (N, 3), N >= 1, finite.
    :param gt: ground-truth points, shape (M, 3), M >= 1, finite.
    :returns: the four Chamfer terms as Python floats.
    :raises ShapeError: if either input has the wrong shape, is empty or is not finite.
    """
    pred_np = _points_to_numpy('pred', pred)
    gt_np = _points_to_numpy('gt', gt)
    d_pred = _nearest_distances(pred_np, gt_np)
    d_gt = _nearest_distances(gt_np, pred_np)
    pred_to_gt = float(d_pred.mean())
    gt_to_pred = float(d_gt.mean())
    return ChamferResult(
        l1=0.5 * (pred_to_gt + gt_to_pred),
        l2=0.5 * (float(np.square(d_pred).mean()) + float(np.square(d_gt).mean())),
        pred_to_gt_l1=pred_to_gt,
        gt_to_pred_l1=gt_to_pred,
    )


def f_score(pred: torch.Tensor, gt: torch.Tensor, tau: float) -> FScoreResult:
    """
    Compute precision, recall and F-score of predicted points at distance threshold `tau`.

    Convention: a point counts as matched when its nearest-neighbour distance to the other set
    is strictly less than `tau` (Tatarchenko et al. 2019). ``precision`` is the fraction of
    `pred` matched in `gt`, ``recall`` the fraction of `gt` matched in `pred`, and
    ``f_score = 2 P R / (P + R)``, defined as 0 when P + R = 0.

    :param pred: predicted points, shape (N, 3), N >= 1, finite.
    :param gt: ground-truth points, shape (M, 3), M >= 1, finite.
    :param tau: distance threshold, positive and finite, in the units of the points.
    :returns: precision, recall and F-score in [0, 1].
    :raises ShapeError: if either point set has the wrong shape, is empty or is not finite.
    :raises ConfigError: if `tau` is not a positive finite number.
    """
    tau = _positive_finite('tau', tau)
    pred_np = _points_to_numpy('pred', pred)
    gt_np = _points_to_numpy('gt', gt)
    precision = float((_nearest_distances(pred_np, gt_np) < tau).mean())
    recall = float((_nearest_distances(gt_np, pred_np) < tau).mean())
    total = precision + recall
    score = 2.0 * precision * recall / total if total > 0.0 else 0.0
    return FScoreResult(precision=precision, recall=recall, f_score=score)


def sample_mesh_surface(
    vertices: torch.Tensor, faces: torch.Tensor, n: int, generator: torch.Generator
) -> torch.Tensor:
    """
    Sample `n` points uniformly (by area) on the surface of a triangle mesh.

    Convention: a face is drawn with probability proportional to its area (inverse CDF over the
    cumulative areas, so zero-area faces are never drawn), then a point uniformly inside it
    from two uniforms (u, v) folded into the triangle (u + v > 1 maps to 1 - u, 1 - v):
    ``p = a + u (b - a) + v (c - a)``. All random numbers are drawn on ``generator.device``
    and moved to ``vertices.device``, so a seeded generator makes the same draws on every
    device. Output dtype follows `vertices` (float64 internally for the face choice).

    :param vertices: mesh vertices, shape (V, 3), floating point, finite.
    :param faces: vertex indices per triangle, shape (F, 3), integer dtype, values in [0, V).
    :param n: number of points to sample, a positive integer.
    :param generator: source of randomness.
    :returns: sampled points, shape (n, 3), on the device and with the dtype of `vertices`.
    :raises ShapeError: on wrong shapes or dtypes, empty inputs, non-finite vertices,
        out-of-range indices, or a mesh whose total area is zero.
    :raises ConfigError: if `n` is not a positive integer or `generator` not a Generator.
    """
    if isinstance(vertices, torch.Tensor):
        check_shape('vertices', tuple(vertices.shape), (None, 3))
    vertices = _check_real_tensor('vertices', vertices)
    if not vertices.is_floating_point():
        raise ShapeError(f'vertices: expected a floating-point dtype, got {vertices.dtype}')
    if not isinstance(faces, torch.Tensor):
        raise ShapeError(f'faces: expected a torch.Tensor, got {type(faces).__name__}')
    check_shape('faces', tuple(faces.shape), (None, 3))
    if faces.dtype == torch.bool or faces.is_floating_point() or faces.is_complex():
        raise ShapeError(f'faces: expected an integer dtype, got {faces.dtype}')
    if faces.numel() == 0:
        raise ShapeError('faces: expected at least one face, got shape (0, 3)')
    if int(faces.min()) < 0 or int(faces.max()) >= vertices.shape[0]:
        raise ShapeError(
            f'faces: expected indices in [0, {vertices.shape[0]}), '
            f'got range [{int(faces.min())}, {int(faces.max())}]'
        )
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError(f'n: expected a positive integer, got {n!r}')
    if not isinstance(generator, torch.Generator):
        raise ConfigError(f'generator: expected a torch.Generator, got {type(generator).__name__}')

    corners = vertices[faces.to(device=vertices.device, dtype=torch.long)]  # (F, 3, 3)
    a, b, c = corners.unbind(dim=1)
    edge_b = b - a
    edge_c = c - a
    areas = 0.5 * torch.linalg.vector_norm(
        torch.linalg.cross(edge_b.double(), edge_c.double()), dim=-1
    )
    cdf = torch.cumsum(areas, dim=0)
    total = float(cdf[-1])
    if not total > 0.0:
        raise ShapeError(f'vertices/faces: the mesh has zero total area ({faces.shape[0]} faces)')

    draw = torch.rand(n, 3, generator=generator, device=generator.device, dtype=torch.float64)
    face_index = torch.searchsorted(cdf.to(draw.device), draw[:, 0] * total, right=True)
    face_index = face_index.clamp_(max=faces.shape[0] - 1).to(vertices.device)
    u, v = draw[:, 1], draw[:, 2]
    fold = u + v > 1.0
    u = torch.where(fold, 1.0 - u, u).to(device=vertices.device, dtype=vertices.dtype)
    v = torch.where(fold, 1.0 - v, v).to(device=vertices.device, dtype=vertices.dtype)
    return a[face_index] + u[:, None] * edge_b[face_index] + v[:, None] * edge_c[face_index]


def volumetric_iou(pred_occupancy: torch.Tensor, gt_occupancy: torch.Tensor) -> float:
    """
    Compute the intersection over union of two boolean occupancy grids.

    Convention: ``|pred & gt| / |pred | gt|`` counted in cells; two empty grids agree
    perfectly and give 1.0.

    :param pred_occupancy: predicted occupancy, bool tensor of any non-empty shape.
    :param gt_occupancy: ground-truth occupancy, bool tensor of the same shape.
    :returns: IoU in [0, 1].
    :raises ShapeError: if either input is not a non-empty bool tensor or the shapes differ.
    """
    for name, grid in (('pred_occupancy', pred_occupancy), ('gt_occupancy', gt_occupancy)):
        if not isinstance(grid, torch.Tensor):
            raise ShapeError(f'{name}: expected a torch.Tensor, got {type(grid).__name__}')
        if grid.dtype != torch.bool:
            raise ShapeError(f'{name}: expected dtype torch.bool, got {grid.dtype}')
        if grid.numel() == 0:
            raise ShapeError(f'{name}: expected a non-empty grid, got shape {tuple(grid.shape)}')
    check_shape('gt_occupancy', tuple(gt_occupancy.shape), tuple(pred_occupancy.shape))
    gt_occupancy = gt_occupancy.to(pred_occupancy.device)
    intersection = int((pred_occupancy & gt_occupancy).sum())
    union = int((pred_occupancy | gt_occupancy).sum())
    return 1.0 if union == 0 else intersection / union


def mean_sign_iou(pred_sdf: torch.Tensor, true_sdf: torch.Tensor) -> float:
    """
    Return the mean over B samples of the IoU of the insides (SDF < 0) at N points, (B, N).

    Convention (validation during training): a sample with no inside point in either field
    scores 0, not 1 as in `volumetric_iou`, so a model that empties everything is not rewarded.
    """
    pred, true = pred_sdf < 0, true_sdf.to(pred_sdf.device) < 0
    union = (pred | true).sum(dim=1).float().clamp_min(1)
    return float(((pred & true).sum(dim=1).float() / union).mean())
