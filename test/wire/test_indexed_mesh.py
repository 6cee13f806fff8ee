"""indexed_mesh_cdr against rosbags (and rclpy once lim_ros_msgs is built), parsing, errors."""

from lim_ros.errors import ShapeError
from lim_ros.wire.indexed_mesh import indexed_mesh_cdr, parse_indexed_mesh_cdr
import numpy as np
import pytest
from wire.messages import assert_matches_rclpy, header, INDEXED_MESH, msg, rosbags_cdr

FRAME_IDS = ['', 'a', 'ab', 'abc', 'abcd', 'abcde']
STAMP_NS = 1_700_000_002_000_000_009


def _mesh(num_vertices, num_faces, seed=0):
    rng = np.random.default_rng(seed)
    vertices = rng.normal(size=(num_vertices, 3)).astype(np.float32)
    faces = rng.integers(0, max(num_vertices, 1), (num_faces, 3))
    colours = rng.integers(0, 256, (num_vertices, 3), np.uint8)
    uv = rng.random((num_vertices, 2)).astype(np.float32)
    return vertices, faces, colours, uv


def _description(vertices, faces, colours, uv, frame_id, track_id):
    return msg(INDEXED_MESH, header=header(STAMP_NS, frame_id),
               vertices=vertices.reshape(-1), triangles=faces.astype(np.uint32).reshape(-1),
               vertex_colors=(np.empty(0, np.uint8) if colours is None
                              else colours.reshape(-1)),
               uv=np.empty(0, np.float32) if uv is None else uv.reshape(-1),
               track_id=track_id)


def _cases():
    for index, frame_id in enumerate(FRAME_IDS):
        for size in ((5, 3), (1, 1), (0, 0)):
            for coloured in (False, True):
                for textured in (False, True):
                    yield frame_id, size, coloured, textured, (0, 7, 2**32 - 1)[index % 3]


CASES = list(_cases())


def _build(frame_id, size, coloured, textured, track_id):
    vertices, faces, colours, uv = _mesh(*size)
    colours = colours if coloured else None
    uv = uv if textured else None
    blob = indexed_mesh_cdr(vertices, faces, colours, STAMP_NS, frame_id, uv=uv,
                            track_id=track_id)
    return blob, _description(vertices, faces, colours, uv, frame_id, track_id)


@pytest.mark.parametrize('frame_id, size, coloured, textured, track_id', CASES)
def test_matches_rosbags_and_parses_back(frame_id, size, coloured, textured, track_id):
    blob, description = _build(frame_id, size, coloured, textured, track_id)
    assert blob == rosbags_cdr(description)

    vertices, faces, colours, uv = _mesh(*size)
    parsed = parse_indexed_mesh_cdr(blob)
    assert (parsed.stamp_ns, parsed.frame_id, parsed.track_id) == (STAMP_NS, frame_id, track_id)
    np.testing.assert_array_equal(parsed.vertices, vertices)
    np.testing.assert_array_equal(parsed.faces, faces)
    assert parsed.vertices.shape == (size[0], 3) and parsed.faces.shape == (size[1], 3)
    assert parsed.faces.dtype == np.int64
    if coloured and size[0]:
        np.testing.assert_array_equal(parsed.colours, colours)
    else:
        assert parsed.colours is None
    if textured and size[0]:
        np.testing.assert_array_equal(parsed.uv, uv)
    else:
        assert parsed.uv is None


@pytest.mark.ros
@pytest.mark.parametrize('frame_id, size, coloured, textured, track_id', CASES)
def test_matches_rclpy(frame_id, size, coloured, textured, track_id):
    pytest.importorskip('lim_ros_msgs.msg')
    assert_matches_rclpy(*_build(frame_id, size, coloured, textured, track_id))


@pytest.mark.parametrize('change, match', [
    ({'vertices': np.full((5, 3), np.inf, np.float32)}, 'vertices: expected finite'),
    ({'faces': np.array([[0, 1, 9]])}, r'faces: expected indices in \[0, 5\)'),
    ({'colours': np.zeros((5, 3), np.float32)}, 'colours: expected dtype uint8'),
    ({'uv': np.zeros((4, 2), np.float32)}, 'uv: expected shape'),
    ({'uv': np.full((5, 2), np.nan, np.float32)}, 'uv: expected finite'),
    ({'track_id': -1}, 'track_id: expected an integer of type uint32'),
])
def test_writer_errors(change, match):
    vertices, faces, colours, _ = _mesh(5, 3)
    arguments = {'vertices': vertices, 'faces': faces, 'colours': colours, 'stamp_ns': 0,
                 'frame_id': 'map', **change}
    with pytest.raises(ShapeError, match=match):
        indexed_mesh_cdr(**arguments)


@pytest.mark.parametrize('change, match', [
    ({'vertices': np.zeros(7, np.float32)}, 'vertices: expected a multiple of 3 values, got 7'),
    ({'triangles': np.zeros(4, np.uint32)}, 'triangles: expected a multiple of 3 values'),
    ({'triangles': np.array([0, 1, 5], np.uint32)}, r'faces: expected indices in \[0, 5\)'),
    ({'vertex_colors': np.zeros(6, np.uint8)}, 'vertex_colors: expected 5 x 3 values, got 6'),
    ({'uv': np.zeros(9, np.float32)}, 'uv: expected 5 x 2 values, got 9'),
])
def test_parse_rejects_inconsistent_arrays(change, match):
    vertices, faces, colours, uv = _mesh(5, 3)
    description = _description(vertices, faces, colours, uv, 'map', 0)
    description.fields.update(change)
    with pytest.raises(ShapeError, match=match):
        parse_indexed_mesh_cdr(rosbags_cdr(description))
