"""
The bag round trip: a scene bag through `process_bag`, the output bag read back with rosbags.

Outputs are checked for what a subscriber relies on: topics and types, one message per due
stamp, stamps monotonic and inside the keyframe span, header stamp = bag time, clouds close
to the ground truth (the shipped LRM gives about 0.05-0.07 m Chamfer-L1 in a 2 m volume), and
standard types that rosbags' own deserialiser reads with the right sizes.
"""

import json
from pathlib import Path
import sys

from bag.bags import copy_bag, SCENE
from lim_ros.bag import BagJob, process_bag
from lim_ros.bag.topics import (
    INDEXED_MESH,
    MARKER_TOPIC,
    MESH_TOPIC,
    OUTPUT_TOPICS,
    POINTS_TOPIC,
    TRACK_ANCHOR_TOPIC,
    TRACK_TEXTURE_TOPIC,
    TRACKED_MARKER_TOPIC,
    TRACKED_MESH_TOPIC,
    TRACKED_TOPICS,
)
from lim_ros.errors import BagError, ConfigError, LimError
from lim_ros.metrics import chamfer
from lim_ros.stream.settings import settings_from_values
from lim_ros.wire import parse_indexed_mesh_cdr, parse_point_cloud_cdr, stamp_to_ns
from lim_ros.world.families import make_object
import numpy as np
import pytest
from rosbags.highlevel import AnyReader
import torch

RATE = 4.0  # outputs per second: stamps 0, 0.25, ..., 1 s
CHAMFER_BOUND = 0.12  # metres


@pytest.fixture(scope='module', params=['sqlite3', 'mcap'])
def processed(request, tmp_path_factory, scene_bag, params):
    """Process the scene bag (as a bag of this storage) into an output bag of that storage."""
    storage = request.param
    folder = tmp_path_factory.mktemp(storage)
    source = scene_bag[0]
    if storage == 'mcap':
        copy_bag(source, folder / 'input', 'mcap')
        source = folder / 'input'
    outputs = []
    job = BagJob(source, folder / 'output', RATE, storage=storage, tracks=folder / 'tracks')
    summary = process_bag(job, params, on_output=lambda output, engine: outputs.append(output))
    return storage, folder / 'output', summary, outputs


def test_keyframes_and_outputs_follow_the_rates(processed, scene_bag):
    _, _, summary, outputs = processed
    first = scene_bag[1][0]
    half = 500_000_000
    assert summary.keyframe_stamps == [first, first + half, first + 2 * half]
    assert summary.output_stamps == [first + i * 250_000_000 for i in range(5)]
    assert [o.keyframe for o in outputs] == [True, False, True, False, True]
    assert summary.errors.total == 0


def test_output_bag_has_one_message_per_stamp_on_each_topic(processed):
    storage, path, summary, _ = processed
    suffix = {'sqlite3': '.db3', 'mcap': '.mcap'}[storage]
    assert [p.suffix for p in path.iterdir() if p.name != 'metadata.yaml'] == [suffix]
    topics = {**OUTPUT_TOPICS, **TRACKED_TOPICS}
    with AnyReader([path]) as reader:
        assert {c.topic: c.msgtype for c in reader.connections} == topics
        by_topic = {topic: [] for topic in topics}
        for connection, timestamp, raw in reader.messages():
            by_topic[connection.topic].append((timestamp, bytes(raw)))
    for topic, messages in by_topic.items():
        if topic in (TRACK_ANCHOR_TOPIC, TRACK_TEXTURE_TOPIC):  # once per track
            assert len(messages) == summary.tracks >= 1, topic
        else:
            assert [t for t, _ in messages] == summary.output_stamps, topic


def _messages(path, topic):
    with AnyReader([path]) as reader:
        connections = [c for c in reader.connections if c.topic == topic]
        return [(t, bytes(raw), reader.deserialize(raw, c.msgtype))
                for c, t, raw in reader.messages(connections=connections)]


def test_clouds_are_near_the_ground_truth_with_monotonic_stamps_in_the_span(processed, params):
    _, path, summary, _ = processed
    obj = make_object(SCENE.family, SCENE.seed)
    span = summary.keyframe_stamps[0], summary.keyframe_stamps[-1]
    previous = -1
    for timestamp, raw, message in _messages(path, POINTS_TOPIC):
        cloud = parse_point_cloud_cdr(raw)
        assert cloud.stamp_ns == timestamp > previous
        assert span[0] <= timestamp <= span[1]
        assert cloud.frame_id == params.stream.volume_frame
        assert cloud.points.shape == (params.engine.num_points, 3)
        assert cloud.colours is not None
        truth = obj.surface_samples(SCENE.time_of(timestamp), 5000,
                                    torch.Generator().manual_seed(0)).points
        assert chamfer(torch.from_numpy(cloud.points), truth).l1 < CHAMFER_BOUND
        # rosbags' deserialiser reads the same message
        assert (message.height, message.width) == (1, params.engine.num_points)
        assert message.point_step == 16 and message.data.size == 16 * message.width
        assert [f.name for f in message.fields] == ['x', 'y', 'z', 'rgb']
        previous = timestamp


def test_markers_and_meshes_deserialise_with_matching_sizes(processed, params):
    _, path, _, _ = processed
    markers = _messages(path, MARKER_TOPIC)
    meshes = _messages(path, MESH_TOPIC)
    assert len(markers) == len(meshes) > 0
    for (t_marker, _, marker), (t_mesh, raw, mesh) in zip(markers, meshes):
        parsed = parse_indexed_mesh_cdr(raw)
        assert t_marker == t_mesh == parsed.stamp_ns
        assert stamp_to_ns(marker.header.stamp.sec, marker.header.stamp.nanosec) == t_marker
        assert marker.type == 11 and marker.header.frame_id == params.stream.volume_frame
        assert len(marker.points) == len(marker.colors) == 3 * parsed.faces.shape[0]
        assert mesh.vertices.size == 3 * parsed.vertices.shape[0]
        assert mesh.triangles.size == 3 * parsed.faces.shape[0] > 0
        assert mesh.vertex_colors.size == mesh.vertices.size


def test_tracked_meshes_keep_their_faces_per_track_and_tracks_are_exported(processed):
    storage, path, summary, _ = processed
    tracked = [parse_indexed_mesh_cdr(raw) for _, raw, _ in _messages(path, TRACKED_MESH_TOPIC)]
    anchors = {m.track_id: m for m in (parse_indexed_mesh_cdr(raw)
                                       for _, raw, _ in _messages(path, TRACK_ANCHOR_TOPIC))}
    assert len(tracked) == len(summary.output_stamps) and set(anchors) == {
        m.track_id for m in tracked}
    for mesh in tracked:
        anchor = anchors[mesh.track_id]
        assert mesh.uv is None and anchor.uv.shape == (len(mesh.vertices), 2)
        assert np.array_equal(mesh.faces, anchor.faces)
    for _, _, marker in _messages(path, TRACKED_MARKER_TOPIC):
        assert len(marker.uv_coordinates) == len(marker.points) > 0
        assert marker.texture_resource == 'embedded://texture' and marker.texture.data.size
    for _, _, image in _messages(path, TRACK_TEXTURE_TOPIC):
        assert (image.height, image.width, image.encoding) == (128, 128, 'rgb8')
    exports = path.parent / 'tracks'
    assert summary.track_exports == [exports / f'track_{i}.glb' for i in sorted(anchors)]
    for track_id in anchors:
        frames = sum(m.track_id == track_id for m in tracked)
        assert len(list((exports / f'track_{track_id}').glob('*.obj'))) == frames
        assert (exports / f'track_{track_id}' / f'track_{track_id}.png').exists()


def test_window_limits_the_keyframes(tmp_path, scene_bag, params):
    first = scene_bag[1][0]
    summary = process_bag(BagJob(scene_bag[0], tmp_path / 'out', 2.0, start=0.4, end=1.1),
                          params)
    assert summary.keyframe_stamps == [first + 500_000_000, first + 1_000_000_000]
    assert summary.output_stamps == summary.keyframe_stamps


def test_a_looping_bag_restarts_the_buffer_the_output_grid_and_the_track(
        tmp_path, scene_bag, params):
    """A bag played twice in one recording: the second pass's stamps go back to the first's."""
    pass_gap = 2_000_000_000  # bag time (ns) of the second pass after the first
    copy_bag(scene_bag[0], tmp_path / 'looped',
             edit=lambda m: [m, (m[0], m[1], m[2] + pass_gap, m[3])])
    outputs = []
    summary = process_bag(BagJob(tmp_path / 'looped', tmp_path / 'out', RATE), params,
                          on_output=lambda output, engine: outputs.append(output))
    first, half = scene_bag[1][0], 500_000_000
    one_pass = [first + i * 250_000_000 for i in range(5)]
    assert summary.buffer_resets == 1 and summary.errors.total == 0
    assert summary.keyframe_stamps == 2 * [first, first + half, first + 2 * half]
    assert summary.output_stamps == 2 * one_pass
    assert [o.keyframe for o in outputs] == 2 * [True, False, True, False, True]
    tracked = [parse_indexed_mesh_cdr(raw)
               for _, raw, _ in _messages(tmp_path / 'out', TRACKED_MESH_TOPIC)]
    # bag time = header stamp, so the two passes' outputs interleave when read back
    assert sorted(m.stamp_ns for m in tracked) == sorted(2 * one_pass)
    stamps_of_track = {}
    for mesh in tracked:
        stamps_of_track.setdefault(mesh.track_id, []).append(mesh.stamp_ns)
    assert summary.tracks == len(stamps_of_track) >= 2  # going back starts a track
    assert all(len(set(s)) == len(s) for s in stamps_of_track.values())
    clouds = [parse_point_cloud_cdr(raw)
              for _, raw, _ in _messages(tmp_path / 'out', POINTS_TOPIC)]
    assert sorted(c.stamp_ns for c in clouds) == sorted(2 * one_pass)
    assert all(np.isfinite(c.points).all() for c in clouds)


def test_existing_output_and_missing_input_are_bag_errors(tmp_path, scene_bag, params):
    (tmp_path / 'exists').mkdir()
    with pytest.raises(BagError, match='exists already'):
        process_bag(BagJob(scene_bag[0], tmp_path / 'exists', RATE), params)
    with pytest.raises(BagError, match='no such bag'):
        process_bag(BagJob(tmp_path / 'none', tmp_path / 'out', RATE), params)
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('fields, match', [
    ({'rate': 0.0}, 'rate'), ({'storage': 'rosbag1'}, 'storage'),
    ({'start': 2.0, 'end': 1.0}, 'end'), ({'start': -1.0}, 'start'),
])
def test_bad_jobs_are_config_errors(tmp_path, fields, match):
    with pytest.raises(ConfigError, match=match):
        BagJob(tmp_path / 'in', tmp_path / 'out', **{'rate': RATE, **fields})


def test_poses_from_tf_are_refused(tmp_path, scene_bag):
    params = settings_from_values({'pose_source': 'tf'})
    with pytest.raises(ConfigError, match='pose_source'):
        process_bag(BagJob(scene_bag[0], tmp_path / 'out', RATE), params)


def test_bag_without_camera_topics_is_a_clear_error(tmp_path, scene_bag, params):
    copy_bag(scene_bag[0], tmp_path / 'renamed',
             edit=lambda m: [(m[0].replace('/cam', '/eye'), *m[1:])])
    with pytest.raises(LimError, match='no camera images.*/cam0/image_raw'):
        process_bag(BagJob(tmp_path / 'renamed', tmp_path / 'out', RATE), params)


@pytest.mark.ros
def test_output_bag_deserialises_as_real_ros_messages_with_rosidl_type_hashes(processed):
    from lim_ros_msgs.msg import IndexedMesh
    from rclpy.serialization import deserialize_message
    from sensor_msgs.msg import Image, PointCloud2
    from visualization_msgs.msg import Marker

    classes = {POINTS_TOPIC: PointCloud2, MARKER_TOPIC: Marker, MESH_TOPIC: IndexedMesh,
               TRACKED_MESH_TOPIC: IndexedMesh, TRACKED_MARKER_TOPIC: Marker,
               TRACK_ANCHOR_TOPIC: IndexedMesh, TRACK_TEXTURE_TOPIC: Image}
    _, path, summary, _ = processed
    with AnyReader([path]) as reader:
        for connection in reader.connections:  # rosidl's hash of the installed interface
            if connection.topic == MESH_TOPIC:
                definition = Path(sys.prefix) / 'share/lim_ros_msgs/msg/IndexedMesh.json'
                hashes = json.loads(definition.read_text())['type_hashes']
                assert {'type_name': INDEXED_MESH, 'hash_string': connection.digest} in hashes
        counts = dict.fromkeys(classes, 0)
        for connection, timestamp, raw in reader.messages():
            message = deserialize_message(bytes(raw), classes[connection.topic])
            stamp = message.header.stamp
            assert stamp_to_ns(stamp.sec, stamp.nanosec) == timestamp
            counts[connection.topic] += 1
            if connection.topic == MESH_TOPIC:
                assert len(message.vertices) == len(message.vertex_colors) > 0
                assert len(message.triangles) % 3 == 0 and len(message.uv) == 0
    per_track = (TRACK_ANCHOR_TOPIC, TRACK_TEXTURE_TOPIC)
    assert counts == {topic: summary.tracks if topic in per_track else len(summary.output_stamps)
                      for topic in classes}
