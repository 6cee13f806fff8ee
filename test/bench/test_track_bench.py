"""Tests of ``bench track``: every method scored on both splits, with the shipped LRM."""

import json
import math

import imageio.v3 as iio
from lim_ros.bench.track import (
    family_rows,
    GRID_TRACKER,
    METHODS,
    OFF_SURFACE,
    off_surface_share,
    run,
    score_positions,
    score_tracked,
    sequence_row,
    SequenceScores,
    TrackBenchConfig,
)
from lim_ros.engine import Volume
from lim_ros.engine.tracking import TrackingConfig
from lim_ros.errors import ConfigError
from lim_ros.geometry import evaluate_on_grid, extract_mesh
from lim_ros.geometry.tracking import TrackAnchor, TrackedMesh
from lim_ros.geometry.uv_atlas import unwrap
from lim_ros.metrics.correspondence import bbox_diagonal_of
from lim_ros.world.families import HELD_OUT_FAMILIES, make_object, SEEN_FAMILIES
import numpy as np
import pytest
import torch


def test_every_method_on_both_splits(tmp_path):
    cfg = TrackBenchConfig(samples=1, frames=4, mesh_resolution=24,
                           tracking=TrackingConfig(track_texture='checker',
                                                   track_texture_size=32))
    out = tmp_path / 'track.json'
    rows = run(cfg, out, figures=tmp_path)
    assert {(r['split'], r['method']) for r in rows} == {
        (s, m) for s in ('seen', 'held_out') for m in METHODS}
    for split in ('seen', 'held_out'):
        by = {r['method']: r for r in rows if r['split'] == split}
        # vertices that never move drift by the whole motion; the tracker on the exact field
        # follows it: its error is what the anchor mesh's own offset from the surface leaves
        assert by['static']['error_%'] > 2.0 * by['oracle_field']['error_%'] > 0.0
        assert by['static']['error_at_end_%'] >= by['static']['error_%']
        assert by['oracle_field']['re_anchors'] == 0 and by['static']['ms_per_frame'] == 0.0
        # knowing the object exactly at the keyframes, only the motion between them is missed
        assert 0.0 < by['pose_chord']['error_%'] < 0.5 * by['static']['error_%']
        # the nearest point of the decoded surface is nearer the truth than vertices left
        # behind, and no further than what the nearest-neighbour baseline reaches
        assert 0.0 < by['surface_floor']['error_%'] < by['static']['error_%']
        assert by['surface_floor']['error_%'] < by['nearest']['error_%']
        assert by['register']['ms_per_frame'] > 0.0 and by['register']['error_%'] > 0.0
        # registering onto the exact surfaces and colours follows the material
        exact = by['register_oracle_field']
        assert 0.0 < exact['error_%'] < by['static']['error_%'] and exact['re_anchors'] == 0
        for name in ('canonical_one_track', 'register_one_track'):  # scored from t = 0 only
            assert by[name]['re_anchors'] == 0 and by[name]['error_at_end_%'] > 0.0
        for row in by.values():
            assert row['drift_%'] >= 0.0 and 0.0 <= row['far_at_end_%'] <= 100.0
            assert 0.0 <= row['far_elsewhere_at_end_%'] <= row['far_at_end_%']
        # at the keyframe of 1 s the exact pose puts no vertex far off; the exact-field tracker
        # leaves no more far off than vertices that never move
        assert by['pose_chord']['far_at_end_%'] == 0.0
        assert by['oracle_field']['far_at_end_%'] <= by['static']['far_at_end_%']
    curves = json.loads(out.with_name('track_curves.json').read_text())
    assert all(len(c['error']) == cfg.frames for c in curves)
    # the same rows, NaN standard errors included (one sequence per split has no spread)
    assert json.dumps(json.loads(out.read_text())['rows']) == json.dumps(rows)
    assert all(math.isnan(r['error_se_%']) for r in rows)
    families = json.loads(out.with_name('track_families.json').read_text())['rows']
    for split in ('seen', 'held_out'):  # one sequence per split: its family's mean is the split's
        (row,) = [f for f in families if f['split'] == split]
        assert row['sequences'] == 1 and row['family'] in (SEEN_FAMILIES + HELD_OUT_FAMILIES)
        assert 0.0 <= row['anchor_off_surface_%'] <= 100.0
        by = {r['method']: r for r in rows if r['split'] == split}
        assert all(row[m] == pytest.approx(by[m]['error_%']) for m in METHODS)
    sequences = json.loads(out.with_name('track_sequences.json').read_text())['rows']
    assert [(r['split'], r['seed']) for r in sequences] == [('seen', cfg.seed),
                                                            ('held_out', cfg.seed)]
    picture = iio.imread(tmp_path / 'held_out.png')  # 3 rows (2 trackers, oracle) x 3 instants
    assert picture.shape == (3 * 192, 3 * 192, 3)


def test_keyframes_at_every_tracked_instant_put_the_chord_on_the_motion(tmp_path):
    cfg = TrackBenchConfig(samples=2, frames=2, duration=0.2, keyframe_gap=0.1,
                           mesh_resolution=20, tracking=TrackingConfig(
                               track_texture='checker', track_texture_size=16), track_grid=32)
    rows = run(cfg, tmp_path / 'track.json')
    for split in ('seen', 'held_out'):
        by = {r['method']: r for r in rows if r['split'] == split}
        assert set(by) == {*METHODS, GRID_TRACKER}
        # every tracked instant is a keyframe, where the chord is the exact motion (up to
        # float32 rounding through the joints)
        assert by['pose_chord']['error_%'] < 0.05 < 1.0 < by['static']['error_%']
        # registration on the field grid follows the material too, from the same anchor
        grid = by[GRID_TRACKER]
        assert 0.0 < grid['error_%'] < by['static']['error_%'] and grid['re_anchors'] == 0
        assert grid['ms_per_frame'] > 0.0
        # two sequences: the standard error of the mean is half their errors' difference
        assert all(math.isfinite(r['error_se_%']) and r['error_se_%'] >= 0.0 for r in rows)
        assert by['static']['error_se_%'] > 0.0
    families = json.loads((tmp_path / 'track_families.json').read_text())['rows']
    assert all(GRID_TRACKER in row for row in families)


@pytest.mark.parametrize('gap', [0.0, -0.5, 0.3, 2.0, float('nan')])
def test_keyframe_gaps_that_do_not_divide_the_duration_are_refused(gap):
    with pytest.raises(ConfigError, match='keyframe_gap'):
        TrackBenchConfig(keyframe_gap=gap)


@pytest.mark.parametrize('grid', [8, -1, 1000])
def test_bad_field_grids_are_refused(grid):
    with pytest.raises(ConfigError, match='track_grid'):
        TrackBenchConfig(track_grid=grid)


def test_family_rows_average_each_family_over_its_own_sequences():
    def row(family: str, seed: int, value: float) -> dict:
        curve = {m: [value, 3.0 * value] for m in METHODS}  # mean over the instants: 2 value
        scores = SequenceScores(family, curve, curve, curve, curve,
                                dict.fromkeys(METHODS, 0.0), {}, 10.0 * value)
        return sequence_row('seen', seed, scores)

    sequences = [row('worm', 1, 1.0), row('tumbler', 2, 5.0), row('worm', 3, 2.0)]
    assert sequences[1]['seed'] == 2 and sequences[1]['nearest'] == pytest.approx(10.0)
    rows = family_rows(sequences + [{**sequences[0], 'split': 'held_out'}])
    assert [(r['split'], r['family'], r['sequences']) for r in rows] == [
        ('seen', 'worm', 2), ('seen', 'tumbler', 1), ('held_out', 'worm', 1)]
    assert rows[0]['nearest'] == pytest.approx(3.0) and rows[1]['nearest'] == pytest.approx(10.0)
    assert [r['anchor_off_surface_%'] for r in rows] == pytest.approx([15.0, 50.0, 10.0])
    assert all(set(METHODS) <= set(r) and 'seed' not in r for r in rows)


def test_tracked_meshes_are_scored_once_per_mesh_vertex():
    """Seam copies of a vertex must not weigh it more than in the methods that move vertices."""
    obj, volume = make_object('quadruped', 60_000), Volume(center=(0.1, 0.0, 0.2), size=3.0)
    mesh = extract_mesh(evaluate_on_grid(lambda p: obj.sdf(p, 0.0), 24))
    atlas = unwrap(mesh)
    assert atlas.num_vertices > mesh.num_vertices  # seams split vertices
    anchor = TrackAnchor(1, 0, atlas, atlas.expand(volume.to_volume(mesh.vertices)),
                         np.zeros((4, 4, 3), np.uint8), mesh.vertices)
    # the mesh vertices at 0.5 s pushed along x, more the higher they stand
    moved = obj.canonical(mesh.vertices, 0.0, 0.5)
    moved[:, 0] += 0.1 * (mesh.vertices[:, 2] - mesh.vertices[:, 2].min())
    tracked = TrackedMesh(500_000_000, anchor, atlas.expand(volume.to_volume(moved)), 0.0, False)
    expected = score_positions(obj, mesh.vertices, 0.0, 0.5, moved)
    assert score_tracked(obj, volume, tracked) == pytest.approx(expected, rel=1e-4)
    # counting the atlas's copies instead weighs seam vertices more, and gives another error
    per_copy = score_positions(obj, atlas.expand(mesh.vertices), 0.0, 0.5, atlas.expand(moved))
    assert abs(per_copy[0] - expected[0]) > 1e-3 * expected[0] > 0.0


def test_anchor_vertices_off_the_true_surface_are_counted():
    obj = make_object('quadruped', 60_000)
    on = obj.surface_samples(0.0, 2000, torch.Generator().manual_seed(0)).points
    assert off_surface_share(obj, on, 0.0) == 0.0
    # a quarter of the points pushed out along the normal from the top of the object: by
    # half the threshold none stands off the surface; by three times it, only pushed points
    # do, and most of them (a few near the ears meet another part)
    diagonal = bbox_diagonal_of(on)
    top = on[:, 2].argsort(descending=True)[:500]
    points = on[top].clone().requires_grad_(True)
    normal = torch.autograd.grad(obj.sdf(points, 0.0).sum(), points)[0]
    normal = normal / normal.norm(dim=-1, keepdim=True)
    shares = []
    for factor in (0.5, 3.0):
        web = on.clone()
        web[top] += factor * OFF_SURFACE / 100.0 * diagonal * normal
        shares.append(off_surface_share(obj, web, 0.0))
    assert shares[0] == 0.0 and 20.0 < shares[1] <= 25.0


def test_far_vertices_on_another_part_are_told_from_those_that_slid_along_their_own():
    obj = make_object('quadruped', 60_000)
    samples = obj.surface_samples(0.0, 4000, torch.Generator().manual_seed(0))
    anchor, part = samples.points, samples.part
    true = obj.canonical(anchor, 0.0, 1.0)
    assert score_positions(obj, anchor, 0.0, 1.0, true)[2:] == (0.0, 0.0)
    # every vertex of the body (part 0) put where the body's material farthest from it is:
    # far off, but still on the body
    body = torch.nonzero(part == 0)[:, 0]
    slid = true.clone()
    slid[body] = true[body][torch.cdist(true[body], true[body]).argmax(dim=1)]
    _, _, far, elsewhere = score_positions(obj, anchor, 0.0, 1.0, slid)
    assert far > 0.0 and elsewhere < 0.1 * far
    # every vertex of the body put on the material of another part: far off, elsewhere
    others = torch.nonzero(part != 0)[:, 0]
    lost = true.clone()
    lost[body] = true[others][torch.cdist(true[body], true[others]).argmax(dim=1)]
    _, _, far, elsewhere = score_positions(obj, anchor, 0.0, 1.0, lost)
    assert far > 0.0 and elsewhere == pytest.approx(far, rel=0.1)
