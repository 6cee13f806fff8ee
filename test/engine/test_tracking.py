"""The engine's MeshTracker with the shipped LRM: fixed faces and UVs, re-anchoring, messages."""

from dataclasses import replace

from engine.scene import camera_images, OBJECT
from lim_ros.engine import EngineConfig, ReconstructionEngine
from lim_ros.engine.messages import TrackedSerializer
from lim_ros.engine.tracking import MeshTracker, TrackingConfig
from lim_ros.errors import ConfigError, StampError
from lim_ros.geometry.tracking import field_jacobian, nearest_neighbour_step, TrackerConfig
from lim_ros.metrics import chamfer
from lim_ros.wire import parse_indexed_mesh_cdr
from lim_ros.world.families import make_object
import numpy as np
import pytest
import torch

SECOND = 1_000_000_000
T0 = 1_700_000_000 * SECOND
SMALL = TrackingConfig(track_texture_size=64)
# no re-anchoring on residual or lost vertices, for the tests of everything else
NO_REANCHOR = replace(SMALL, track_reanchor_error=10.0)
KEEP_LOST = TrackerConfig(lost_fraction=1.0)


@pytest.fixture(scope='module')
def engine():
    torch.set_num_threads(1)
    engine = ReconstructionEngine(EngineConfig(mesh_resolution=32))
    for t in (0.0, 0.5, 1.0):
        images, cameras = camera_images(t)
        engine.add_keyframe(T0 + int(t * SECOND), images, cameras)
    return engine


def truth(t: float) -> torch.Tensor:
    return make_object(*OBJECT).surface_samples(t, 3000, torch.Generator().manual_seed(0)).points


def test_a_track_keeps_faces_uvs_and_texture_and_stays_on_the_surface(engine):
    tracker = MeshTracker(engine, NO_REANCHOR, KEEP_LOST)
    first = tracker.tracked_mesh(T0 + SECOND // 10)
    assert first.new_track and first.anchor.track_id == 1 and first.anchor.stamp_ns == T0
    assert first.vertices.shape == (first.anchor.atlas.num_vertices, 3)
    assert first.anchor.texture.shape == (64, 64, 3)
    later = [tracker.tracked_mesh(T0 + k * SECOND // 10) for k in (3, 6)]
    for tracked, t in zip(later, (0.3, 0.6)):
        assert not tracked.new_track and tracked.anchor is first.anchor
        assert torch.equal(tracked.faces, first.faces) and torch.equal(tracked.uvs, first.uvs)
        assert chamfer(tracked.vertices, truth(t)).l1 < 0.12
        assert 0.0 <= tracked.error < 0.1
    # the anchor vertices are the engine's mesh at the keyframe, copied at the seams
    mesh = engine.mesh(T0)
    assert torch.equal(first.anchor.vertices, mesh.vertices[first.anchor.atlas.source])


def test_the_local_search_keeps_the_track_on_the_surface_too(engine):
    tracker = MeshTracker(engine, replace(SMALL, track_search='local', track_substep=0.05))
    first = tracker.tracked_mesh(T0)
    tracked = tracker.tracked_mesh(T0 + SECOND // 5)  # four sub-steps
    assert tracked.anchor is first.anchor and not tracked.new_track
    assert chamfer(tracked.vertices, truth(0.2)).l1 < 0.12


def _material_error(anchor: torch.Tensor, positions: torch.Tensor, t: float) -> float:
    """Mean distance of positions (V, 3) to where the material at ``anchor`` is at t (unit)."""
    true = make_object(*OBJECT).canonical(anchor, 0.0, t)
    return float((positions - true).norm(dim=-1).mean())


@pytest.mark.parametrize('colour_weight', [0.1, 0.0])  # the default, and shape only
def test_the_register_search_follows_the_material_better_than_standing_still(engine,
                                                                             colour_weight):
    tracker = MeshTracker(engine, replace(NO_REANCHOR, track_search='register',
                                          track_colour_weight=colour_weight), KEEP_LOST)
    assert tracker.registration.colour_weight == colour_weight
    first = tracker.tracked_mesh(T0)
    tracked = tracker.tracked_mesh(T0 + 3 * SECOND // 10)  # three sub-steps
    assert tracked.anchor is first.anchor and not tracked.new_track
    assert torch.equal(tracked.faces, first.faces) and torch.equal(tracked.uvs, first.uvs)
    anchor = engine.volume.to_unit(first.anchor.vertices)
    nearest = anchor  # the baseline: each vertex follows the nearest vertex, frame to frame
    for k in (1, 2, 3):
        mesh = engine.mesh(T0 + k * SECOND // 10)
        nearest = nearest_neighbour_step(nearest, engine.volume.to_unit(mesh.vertices))

    def error(positions: torch.Tensor) -> float:  # from where the material went
        return _material_error(anchor, positions, 0.3)

    moved = error(engine.volume.to_unit(tracked.vertices))
    assert moved < error(anchor) and moved < 0.9 * error(nearest)
    assert chamfer(tracked.vertices, truth(0.3)).l1 < 0.12 and 0.0 <= tracked.error < 0.1


def test_stamps_going_back_or_a_residual_past_the_limit_start_a_new_track(engine):
    tracker = MeshTracker(engine, NO_REANCHOR, KEEP_LOST)
    tracker.tracked_mesh(T0 + SECOND // 2)
    back = tracker.tracked_mesh(T0 + SECOND // 4)
    assert back.new_track and back.anchor.track_id == 2 and back.anchor.stamp_ns == T0
    strict = MeshTracker(engine, replace(SMALL, track_reanchor_error=1e-9))
    strict.tracked_mesh(T0)
    again = strict.tracked_mesh(T0 + SECOND // 10)
    assert again.new_track and again.anchor.track_id == 2 and again.error == 0.0
    assert again.anchor.stamp_ns == T0 + SECOND // 10  # re-anchored at the stamp itself
    with pytest.raises(StampError, match='outside'):
        tracker.tracked_mesh(T0 + 2 * SECOND)


def test_a_track_whose_last_stamp_left_the_buffer_starts_again():
    engine = ReconstructionEngine(EngineConfig(mesh_resolution=32, max_keyframes=2))
    for t in (0.0, 0.5):
        engine.add_keyframe(T0 + int(t * SECOND), *camera_images(t))
    tracker = MeshTracker(engine, replace(NO_REANCHOR, track_search='local'), KEEP_LOST)
    assert tracker.tracked_mesh(T0 + SECOND // 10).anchor.track_id == 1
    engine.add_keyframe(T0 + SECOND, *camera_images(1.0))  # the keyframe at 0 s is dropped
    tracked = tracker.tracked_mesh(T0 + 9 * SECOND // 10)
    assert tracked.new_track and tracked.anchor.track_id == 2
    assert tracked.anchor.stamp_ns == T0 + SECOND // 2


def test_checker_texture_holds_two_colours(engine):
    tracked = MeshTracker(engine, replace(SMALL, track_texture='checker')).tracked_mesh(T0)
    colours, counts = np.unique(tracked.anchor.texture.reshape(-1, 3), axis=0,
                                return_counts=True)
    assert len(colours) >= 2 and np.sort(counts)[-2:].sum() > 0.8 * counts.sum()


def test_the_correspondence_field_is_differentiable(engine):
    points = torch.rand(50, 3) - 0.5
    values, jacobian = field_jacobian(engine.correspondence_field(T0 + SECOND // 4), points)
    assert values.shape == (50, 4) and jacobian.shape == (50, 4, 3)
    assert bool(torch.isfinite(jacobian).all()) and float(jacobian.abs().sum()) > 0.0


def test_tracked_messages_send_uvs_and_texture_only_with_a_new_track(engine):
    tracker = MeshTracker(engine, SMALL)
    tracked = tracker.tracked_mesh(T0 + SECOND // 10)
    serialize = TrackedSerializer()
    first = serialize(tracked, 'lim_volume')
    mesh, anchor = parse_indexed_mesh_cdr(first.mesh), parse_indexed_mesh_cdr(first.anchor)
    assert mesh.uv is None and mesh.track_id == anchor.track_id == 1
    assert np.array_equal(mesh.faces, anchor.faces) and anchor.uv.shape == (len(mesh.vertices), 2)
    assert (mesh.stamp_ns, anchor.stamp_ns) == (T0 + SECOND // 10, T0)
    assert isinstance(first.texture, bytes) and len(first.texture) > 64 * 64 * 3
    later = serialize(tracked, 'lim_volume')
    assert later.anchor is None and later.texture is None and later.mesh == first.mesh
    back = tracker.tracked_mesh(T0)  # time going back starts track 2
    assert parse_indexed_mesh_cdr(serialize(back, 'lim_volume').anchor).track_id == 2
    assert TrackedSerializer()(tracked, 'lim_volume').anchor == first.anchor


def test_bad_tracking_settings_are_refused_naming_them():
    with pytest.raises(ConfigError, match='track_texture'):
        TrackingConfig(track_texture='marble')
    with pytest.raises(ConfigError, match='track_texture_size'):
        TrackingConfig(track_texture_size=4)
    with pytest.raises(ConfigError, match='track_substep'):
        TrackingConfig(track_substep=0.0)
    with pytest.raises(ConfigError, match='track_search'):
        TrackingConfig(track_search='global')
    with pytest.raises(ConfigError, match='tracking'):
        TrackingConfig(tracking='yes')
    for grid in (8, 257, True, 32.0):
        with pytest.raises(ConfigError, match='track_grid'):
            TrackingConfig(track_grid=grid)
    for weight in (-0.1, float('nan'), float('inf'), True, '0'):
        with pytest.raises(ConfigError, match='track_colour_weight'):
            TrackingConfig(track_colour_weight=weight)


def test_fields_read_from_a_grid_match_the_decoder_near_the_surface(engine):
    stamp = T0 + SECOND // 4
    points = engine.volume.to_unit(engine.mesh(stamp).vertices)
    for field in (engine.surface_field, engine.correspondence_field):
        with torch.no_grad():
            decoded, read = field(stamp)(points), field(stamp, 64)(points)
        assert read[0].shape == decoded[0].shape and read[1].shape == decoded[1].shape
        assert float((read[0] - decoded[0]).abs().mean()) < 0.01  # unit cube; cells of 0.03
        assert float((read[1] - decoded[1]).abs().mean()) < 0.02
    values, jacobian = field_jacobian(engine.correspondence_field(stamp, 64), points)
    assert bool(torch.isfinite(jacobian).all()) and float(jacobian.abs().sum()) > 0.0


def test_the_register_search_on_a_field_grid_follows_the_material_as_the_decoder_does(engine):
    trackers = [MeshTracker(engine, replace(NO_REANCHOR, track_search='register',
                                            track_grid=grid), KEEP_LOST) for grid in (0, 96)]
    for tracker in trackers:
        tracker.tracked_mesh(T0)
    decoded, grid = (tracker.tracked_mesh(T0 + 3 * SECOND // 10) for tracker in trackers)
    assert torch.equal(grid.faces, decoded.faces) and grid.vertices.shape == decoded.vertices.shape
    # within a tenth of the motion of the decoder's result, and on the surface
    anchor = engine.volume.to_unit(grid.anchor.vertices)
    apart = _material_error(anchor, engine.volume.to_unit(grid.vertices), 0.3) \
        - _material_error(anchor, engine.volume.to_unit(decoded.vertices), 0.3)
    assert abs(apart) < 0.1 * _material_error(anchor, anchor, 0.3)
    assert chamfer(grid.vertices, truth(0.3)).l1 < 0.12 and 0.0 <= grid.error < 0.1
