"""Tests for lim_ros.metrics.correspondence: known offsets on a known box."""

from lim_ros.errors import ConfigError, ShapeError
from lim_ros.metrics import bbox_diagonal_of, correspondence_error, correspondence_errors
import pytest
import torch

# Corners of the box [0, 3] x [0, 4] x [0, 12]: diagonal sqrt(9 + 16 + 144) = 13.
BOX = torch.cartesian_prod(
    torch.tensor([0.0, 3.0]), torch.tensor([0.0, 4.0]), torch.tensor([0.0, 12.0])
)


def test_bbox_diagonal_of_a_known_box():
    assert bbox_diagonal_of(BOX) == pytest.approx(13.0)
    assert bbox_diagonal_of(BOX + 100.0) == pytest.approx(13.0)


def test_known_offset_on_a_known_box():
    pred = BOX + torch.tensor([0.0, 0.0, 1.3])
    assert correspondence_error(pred, BOX) == pytest.approx(10.0)


def test_mixed_offsets_average_euclidean_distances():
    pred = BOX.clone()
    pred[0] += torch.tensor([3.0, 4.0, 0.0])  # distance 5, the other seven 0
    assert correspondence_error(pred, BOX) == pytest.approx(100.0 * (5.0 / 8.0) / 13.0)


def test_per_point_errors_are_each_points_distance_and_average_to_the_mean():
    pred = BOX.clone()
    pred[0] += torch.tensor([3.0, 4.0, 0.0])
    errors = correspondence_errors(pred, BOX, bbox_diagonal=5.0)
    assert errors.shape == (8,) and errors.dtype == torch.float64
    assert errors.tolist() == pytest.approx([100.0] + [0.0] * 7)
    assert correspondence_error(pred, BOX, 5.0) == pytest.approx(float(errors.mean()))
    with pytest.raises(ShapeError, match='^true:'):
        correspondence_errors(pred, BOX[:7])


def test_explicit_diagonal_overrides_the_box():
    pred = BOX + torch.tensor([0.0, 0.0, 1.3])
    assert correspondence_error(pred, BOX, bbox_diagonal=2.6) == pytest.approx(50.0)
    assert correspondence_error(pred, BOX, bbox_diagonal=13) == pytest.approx(10.0)


def test_perfect_correspondence_is_zero_and_dtypes_mix():
    assert correspondence_error(BOX.double(), BOX) == 0.0
    assert isinstance(correspondence_error(BOX, BOX), float)


def test_single_point_needs_an_explicit_diagonal():
    true = torch.tensor([[1.0, 2.0, 3.0]])
    pred = torch.tensor([[1.0, 2.0, 4.0]])
    with pytest.raises(ShapeError, match='^true:.*zero diagonal'):
        correspondence_error(pred, true)
    assert correspondence_error(pred, true, bbox_diagonal=4.0) == pytest.approx(25.0)


@pytest.mark.parametrize(
    'pred, true, name',
    [
        (BOX[:, :2], BOX[:, :2], 'pred'),
        (BOX, BOX[:7], 'true'),
        (BOX, BOX.flatten(), 'true'),
        (torch.zeros(0, 3), torch.zeros(0, 3), 'pred'),
        (torch.full((8, 3), float('nan')), BOX, 'pred'),
        (BOX, torch.full((8, 3), float('inf')), 'true'),
        (BOX.tolist(), BOX, 'pred'),
    ],
)
def test_bad_points_raise_shape_error(pred, true, name):
    with pytest.raises(ShapeError, match=f'^{name}:'):
        correspondence_error(pred, true)


@pytest.mark.parametrize('diagonal', [0.0, -1.0, float('nan'), float('inf'), 'big'])
def test_bad_diagonal_raises_config_error(diagonal):
    with pytest.raises(ConfigError, match='^bbox_diagonal:'):
        correspondence_error(BOX, BOX, bbox_diagonal=diagonal)


def test_bbox_diagonal_of_rejects_bad_points():
    with pytest.raises(ShapeError, match='^points:'):
        bbox_diagonal_of(torch.zeros(0, 3))
