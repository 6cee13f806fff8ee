"""Tests for lim_ros.metrics.geometry: hand-computed Chamfer, F-score, IoU and sampling cases."""

from lim_ros.errors import ConfigError, ShapeError
from lim_ros.metrics import (
    chamfer,
    ChamferResult,
    f_score,
    FScoreResult,
    mean_sign_iou,
    sample_mesh_surface,
    volumetric_iou,
)
import pytest
import torch


def _seeded(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


BAD_POINTS = [
    pytest.param(torch.zeros(4, 2), id='wrong-width'),
    pytest.param(torch.zeros(3), id='one-dim'),
    pytest.param(torch.zeros(2, 4, 3), id='three-dim'),
    pytest.param(torch.zeros(0, 3), id='empty'),
    pytest.param(torch.tensor([[0.0, float('nan'), 0.0]]), id='nan'),
    pytest.param(torch.tensor([[0.0, float('inf'), 0.0]]), id='inf'),
    pytest.param(torch.zeros(2, 3, dtype=torch.bool), id='bool'),
    pytest.param([[0.0, 0.0, 0.0]], id='list'),
]


# --- chamfer -------------------------------------------------------------------------------

def test_chamfer_of_a_set_with_itself_is_zero():
    points = torch.rand(50, 3, generator=_seeded())
    result = chamfer(points, points)
    assert isinstance(result, ChamferResult)
    assert result == ChamferResult(l1=0.0, l2=0.0, pred_to_gt_l1=0.0, gt_to_pred_l1=0.0)


def test_chamfer_one_extra_point_at_distance_three():
    pred = torch.tensor([[0.0, 0.0, 0.0]])
    gt = torch.tensor([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0]])
    result = chamfer(pred, gt)
    # pred->gt: [0] -> 0; gt->pred: [0, 3] -> 1.5; squared: [0, 9] -> 4.5.
    assert result.pred_to_gt_l1 == pytest.approx(0.0)
    assert result.gt_to_pred_l1 == pytest.approx(1.5)
    assert result.l1 == pytest.approx(0.75)
    assert result.l2 == pytest.approx(2.25)
    swapped = chamfer(gt, pred)
    assert swapped.pred_to_gt_l1 == pytest.approx(1.5)
    assert swapped.l1 == pytest.approx(result.l1)
    assert swapped.l2 == pytest.approx(result.l2)


def test_chamfer_of_a_sparse_grid_shifted_by_a_small_offset():
    axis = torch.arange(4, dtype=torch.float64) * 10.0
    grid = torch.cartesian_prod(axis, axis, axis)
    shifted = grid + torch.tensor([0.3, 0.0, 0.4], dtype=torch.float64)
    result = chamfer(shifted, grid)
    assert result.l1 == pytest.approx(0.5)
    assert result.l2 == pytest.approx(0.25)


def test_chamfer_accepts_float32_and_integer_points_and_returns_floats():
    pred = torch.tensor([[0, 0, 0], [0, 0, 2]], dtype=torch.int64)
    gt = torch.tensor([[0.0, 0.0, 1.0]], dtype=torch.float32)
    result = chamfer(pred, gt)
    assert all(isinstance(v, float) for v in vars(result).values())
    assert result.pred_to_gt_l1 == pytest.approx(1.0)
    assert result.gt_to_pred_l1 == pytest.approx(1.0)
    assert result.l2 == pytest.approx(1.0)


@pytest.mark.parametrize('bad', BAD_POINTS)
@pytest.mark.parametrize('which', ['pred', 'gt'])
def test_chamfer_rejects_bad_points_naming_the_argument(bad, which):
    good = torch.zeros(2, 3)
    args = {'pred': good, 'gt': good, which: bad}
    with pytest.raises(ShapeError, match=f'^{which}:'):
        chamfer(**args)


# --- f_score -------------------------------------------------------------------------------

F_PRED = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [5.0, 0.0, 0.0]])
F_GT = torch.tensor([[0.0, 0.0, 0.2], [1.0, 0.0, 0.6]])
# pred->gt distances: 0.2, 0.6, ~4.04; gt->pred distances: 0.2, 0.6.


@pytest.mark.parametrize(
    'tau, precision, recall',
    [
        (0.1, 0.0, 0.0),
        (0.4, 1.0 / 3.0, 0.5),
        (1.0, 2.0 / 3.0, 1.0),
        (10.0, 1.0, 1.0),
    ],
)
def test_f_score_with_tau_straddling_known_distances(tau, precision, recall):
    result = f_score(F_PRED, F_GT, tau)
    assert isinstance(result, FScoreResult)
    assert result.precision == pytest.approx(precision)
    assert result.recall == pytest.approx(recall)
    total = precision + recall
    expected = 0.0 if total == 0.0 else 2.0 * precision * recall / total
    assert result.f_score == pytest.approx(expected)


def test_f_score_hand_values():
    assert f_score(F_PRED, F_GT, 0.4).f_score == pytest.approx(0.4)
    assert f_score(F_PRED, F_GT, 1.0).f_score == pytest.approx(0.8)
    assert f_score(F_PRED, F_GT, 0.1).f_score == 0.0


def test_f_score_threshold_is_strict():
    pred = torch.tensor([[0.0, 0.0, 0.0]])
    gt = torch.tensor([[0.0, 0.0, 0.5]])
    assert f_score(pred, gt, 0.5).f_score == 0.0
    assert f_score(pred, gt, 0.5001).f_score == 1.0


@pytest.mark.parametrize('tau', [0.0, -1.0, float('nan'), float('inf'), 'a', None, True])
def test_f_score_rejects_bad_tau(tau):
    with pytest.raises(ConfigError, match='^tau:'):
        f_score(F_PRED, F_GT, tau)


@pytest.mark.parametrize('bad', BAD_POINTS)
def test_f_score_rejects_bad_points(bad):
    with pytest.raises(ShapeError, match='^gt:'):
        f_score(F_PRED, bad, 0.1)


# --- sample_mesh_surface -------------------------------------------------------------------

SQUARE_VERTICES = torch.tensor(
    [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
)
SQUARE_FACES = torch.tensor([[0, 1, 2], [0, 2, 3]])


def test_sampling_a_unit_square_stays_inside_with_mean_one_half():
    points = sample_mesh_surface(SQUARE_VERTICES, SQUARE_FACES, 20000, _seeded())
    assert points.shape == (20000, 3)
    assert points.dtype == torch.float32
    assert torch.all(points[:, 2] == 0.0)
    assert torch.all((points[:, :2] >= 0.0) & (points[:, :2] <= 1.0))
    # Uniform on [0, 1]: mean 1/2, variance 1/12; standard error ~0.002.
    assert points[:, :2].mean(dim=0).tolist() == pytest.approx([0.5, 0.5], abs=0.01)
    assert points[:, :2].var(dim=0).tolist() == pytest.approx([1 / 12, 1 / 12], abs=0.005)


def test_sampling_counts_follow_area_two_to_one():
    vertices = torch.tensor(
        [
            [0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 1.0, 0.0],  # area 1
            [10.0, 0.0, 0.0], [11.0, 0.0, 0.0], [10.0, 1.0, 0.0],  # area 0.5
        ]
    )
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
    points = sample_mesh_surface(vertices, faces, 30000, _seeded(1))
    big = int((points[:, 0] < 5.0).sum())
    small = points.shape[0] - big
    assert big / small == pytest.approx(2.0, rel=0.05)
    # Uniform inside a triangle: the samples' mean is the centroid.
    centroid = points[points[:, 0] < 5.0].mean(dim=0)
    assert centroid.tolist() == pytest.approx([2.0 / 3.0, 1.0 / 3.0, 0.0], abs=0.01)


def test_sampling_an_octahedron_lands_on_its_surface_evenly():
    vertices = torch.tensor(
        [[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]],
        dtype=torch.float64,
    )
    faces = torch.tensor(
        [[x, y, z] for x in (0, 1) for y in (2, 3) for z in (4, 5)], dtype=torch.long
    )
    points = sample_mesh_surface(vertices, faces, 40000, _seeded(2))
    assert points.dtype == torch.float64
    # Every point of the octahedron's surface satisfies |x| + |y| + |z| = 1.
    assert torch.allclose(points.abs().sum(dim=1), torch.ones(40000, dtype=torch.float64))
    assert points.mean(dim=0).tolist() == pytest.approx([0.0, 0.0, 0.0], abs=0.01)
    octant = (points > 0).long() @ torch.tensor([1, 2, 4])
    counts = torch.bincount(octant, minlength=8).double() / 40000
    assert counts.tolist() == pytest.approx([1 / 8] * 8, abs=0.01)


def test_sampling_a_unit_cube_surface_spreads_over_six_faces():
    corners = torch.cartesian_prod(*[torch.tensor([0.0, 1.0])] * 3)  # index = 4x + 2y + z
    faces = []
    for axis in range(3):
        bit = 1 << (2 - axis)
        for side in (0, 1):
            quad = [i for i in range(8) if bool(i & bit) == bool(side)]
            a, b, c, d = quad  # corners of one face, with a-d a diagonal
            faces += [[a, b, d], [a, c, d]]
    points = sample_mesh_surface(corners, torch.tensor(faces), 60000, _seeded(3))
    assert torch.all((points >= 0.0) & (points <= 1.0))
    on_face = (points == 0.0) | (points == 1.0)
    assert torch.all(on_face.any(dim=1))
    per_face = torch.stack([points == 0.0, points == 1.0], dim=-1).reshape(-1, 6)
    shares = per_face.double().mean(dim=0)
    assert shares.tolist() == pytest.approx([1 / 6] * 6, abs=0.01)


def test_sampling_never_picks_zero_area_faces():
    collinear = torch.tensor([[100.0, 0, 0], [101, 0, 0], [102, 0, 0]])
    vertices = torch.cat([SQUARE_VERTICES, collinear])
    faces = torch.cat([SQUARE_FACES, torch.tensor([[4, 5, 6]])])
    points = sample_mesh_surface(vertices, faces, 5000, _seeded())
    assert points[:, 0].max() <= 1.0


def test_sampling_is_reproducible_with_a_seeded_generator():
    first = sample_mesh_surface(SQUARE_VERTICES, SQUARE_FACES, 100, _seeded(7))
    second = sample_mesh_surface(SQUARE_VERTICES, SQUARE_FACES, 100, _seeded(7))
    other = sample_mesh_surface(SQUARE_VERTICES, SQUARE_FACES, 100, _seeded(8))
    assert torch.equal(first, second)
    assert not torch.equal(first, other)


def test_sampling_a_degenerate_mesh_raises():
    collinear = torch.tensor([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
    with pytest.raises(ShapeError, match='zero total area'):
        sample_mesh_surface(collinear, torch.tensor([[0, 1, 2]]), 10, _seeded())


@pytest.mark.parametrize(
    'vertices, faces, name',
    [
        (torch.zeros(4, 2), SQUARE_FACES, 'vertices'),
        (torch.zeros(0, 3), SQUARE_FACES, 'vertices'),
        (SQUARE_VERTICES.clone().fill_(float('nan')), SQUARE_FACES, 'vertices'),
        (SQUARE_VERTICES.long(), SQUARE_FACES, 'vertices'),
        (SQUARE_VERTICES, SQUARE_FACES.float(), 'faces'),
        (SQUARE_VERTICES, SQUARE_FACES[:, :2], 'faces'),
        (SQUARE_VERTICES, torch.zeros(0, 3, dtype=torch.long), 'faces'),
        (SQUARE_VERTICES, torch.tensor([[0, 1, 4]]), 'faces'),
        (SQUARE_VERTICES, torch.tensor([[0, 1, -1]]), 'faces'),
        (SQUARE_VERTICES, [[0, 1, 2]], 'faces'),
    ],
)
def test_sampling_rejects_bad_meshes(vertices, faces, name):
    with pytest.raises(ShapeError, match=f'^{name}:'):
        sample_mesh_surface(vertices, faces, 10, _seeded())


@pytest.mark.parametrize('n', [0, -5, 2.5, True, None])
def test_sampling_rejects_bad_counts(n):
    with pytest.raises(ConfigError, match='^n:'):
        sample_mesh_surface(SQUARE_VERTICES, SQUARE_FACES, n, _seeded())


def test_sampling_requires_a_generator():
    with pytest.raises(ConfigError, match='^generator:'):
        sample_mesh_surface(SQUARE_VERTICES, SQUARE_FACES, 10, None)


# --- volumetric_iou ------------------------------------------------------------------------

def _slab(start: int, stop: int) -> torch.Tensor:
    grid = torch.zeros(4, 4, 4, dtype=torch.bool)
    grid[start:stop] = True
    return grid


def test_iou_of_two_half_overlapping_boxes_is_one_third():
    assert volumetric_iou(_slab(0, 2), _slab(1, 3)) == pytest.approx(1.0 / 3.0)


def test_iou_identical_disjoint_and_empty():
    assert volumetric_iou(_slab(0, 2), _slab(0, 2)) == 1.0
    assert volumetric_iou(_slab(0, 2), _slab(2, 4)) == 0.0
    assert volumetric_iou(_slab(0, 0), _slab(0, 0)) == 1.0
    assert volumetric_iou(_slab(0, 0), _slab(0, 1)) == 0.0


@pytest.mark.parametrize(
    'pred, gt, name',
    [
        (_slab(0, 2), torch.zeros(4, 4, 5, dtype=torch.bool), 'gt_occupancy'),
        (_slab(0, 2).float(), _slab(0, 2), 'pred_occupancy'),
        (_slab(0, 2), _slab(0, 2).long(), 'gt_occupancy'),
        (torch.zeros(0, 4, dtype=torch.bool), torch.zeros(0, 4, dtype=torch.bool),
         'pred_occupancy'),
        ([True], _slab(0, 2), 'pred_occupancy'),
    ],
)
def test_iou_rejects_bad_grids(pred, gt, name):
    with pytest.raises(ShapeError, match=f'^{name}:'):
        volumetric_iou(pred, gt)


def test_results_are_frozen():
    result = f_score(F_PRED, F_GT, 1.0)
    with pytest.raises(AttributeError):
        result.precision = 0.0  # type: ignore[misc]


def test_mean_sign_iou_by_hand():
    pred = torch.tensor([[-1.0, -1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    true = torch.tensor([[-1.0, 1.0, -1.0, 1.0], [1.0, 1.0, 1.0, 1.0]])
    # sample 0: inside {0, 1} vs {0, 2}: 1 / 3; sample 1: nothing inside either: 0
    assert mean_sign_iou(pred, true) == pytest.approx(1.0 / 6.0)
