"""Correspondence error: how far predicted points land from their true positions."""

from lim_ros.errors import check_shape, ShapeError
from lim_ros.metrics.geometry import _check_real_tensor, _positive_finite
import torch


def _check_points(name: str, points: object) -> torch.Tensor:
    """Return `points` if it is a non-empty finite (N, 3) tensor; raise ShapeError if not."""
    if isinstance(points, torch.Tensor):
        check_shape(name, tuple(points.shape), (None, 3))
    return _check_real_tensor(name, points)


def bbox_diagonal_of(points: torch.Tensor) -> float:
    """
    Return the length of the diagonal of the axis-aligned bounding box of (N, 3) points.

    :raises ShapeError: if `points` is not a non-empty finite (N, 3) tensor.
    """
    points = _check_points('points', points).detach().double()
    return float(torch.linalg.vector_norm(points.amax(dim=0) - points.amin(dim=0)))


def correspondence_errors(
    pred: torch.Tensor, true: torch.Tensor, bbox_diagonal: float | None = None
) -> torch.Tensor:
    """
    Return every point's correspondence error (N,), float64, in percent of a diagonal.

    Row i is ``100 * ||pred_i - true_i|| / D`` where D is `bbox_diagonal` if given, else the
    diagonal of the axis-aligned bounding box of `true`. So 1.0 means "off by 1 % of the
    object's size".

    :param pred: predicted positions, shape (N, 3), N >= 1, finite.
    :param true: true positions, shape (N, 3), finite.
    :param bbox_diagonal: normalising length, positive and finite; None uses `true`'s box.
    :raises ShapeError: if the inputs have the wrong or different shapes, are empty or not
        finite, or if `bbox_diagonal` is None and `true` has a zero-size bounding box.
    :raises ConfigError: if `bbox_diagonal` is given but not a positive finite number.
    """
    _check_points('pred', pred)
    _check_points('true', true)
    check_shape('true', tuple(true.shape), tuple(pred.shape))
    if bbox_diagonal is None:
        diagonal = bbox_diagonal_of(true)
        if not diagonal > 0.0:
            raise ShapeError('true: bounding box has zero diagonal; pass bbox_diagonal explicitly')
    else:
        diagonal = _positive_finite('bbox_diagonal', bbox_diagonal)
    offsets = pred.detach().double() - true.detach().to(pred.device).double()
    return 100.0 * torch.linalg.vector_norm(offsets, dim=-1) / diagonal


def correspondence_error(
    pred: torch.Tensor, true: torch.Tensor, bbox_diagonal: float | None = None
) -> float:
    """
    Compute the mean correspondence error in percent of a bounding-box diagonal.

    The mean of `correspondence_errors` (same arguments, same errors raised), in float64.
    """
    return float(correspondence_errors(pred, true, bbox_diagonal).mean())
