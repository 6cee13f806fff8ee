"""Tests of writing meshes to PLY and OBJ (lim_ros.geometry.export)."""

from lim_ros.errors import ShapeError
from lim_ros.geometry.export import write_obj, write_ply
from lim_ros.geometry.mesh import Mesh
import numpy as np
import pytest
import torch

VERTICES = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
FACES = torch.tensor([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
COLOURS = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [0.5, 0.5, 0.5]])


def _read_ply(path):
    """Parse the binary PLY that write_ply writes: header lines, vertices and faces."""
    data = path.read_bytes()
    end = data.index(b'end_header\n') + len(b'end_header\n')
    header = data[:end].decode('ascii').splitlines()
    count = {line.split()[1]: int(line.split()[2]) for line in header
             if line.startswith('element')}
    names = [line.split()[-1] for line in header if line.startswith('property ')
             and 'list' not in line]
    fields = [(n, '<f4' if n in 'xyz' else 'u1') for n in names]
    vertex = np.frombuffer(data, dtype=fields, count=count['vertex'], offset=end)
    face = np.frombuffer(data, dtype=[('n', 'u1'), ('index', '<i4', (3,))], count=count['face'],
                         offset=end + vertex.nbytes)
    assert end + vertex.nbytes + face.nbytes == len(data)
    return header, vertex, face


def test_ply_holds_vertices_colours_and_faces(tmp_path):
    path = write_ply(tmp_path / 'm.ply', Mesh(VERTICES, FACES, COLOURS))
    header, vertex, face = _read_ply(path)
    assert header[1] == 'format binary_little_endian 1.0'
    assert np.array_equal(np.stack([vertex[a] for a in 'xyz'], 1), VERTICES.numpy())
    assert np.array_equal(np.stack([vertex[c] for c in ('red', 'green', 'blue')], 1),
                          [[255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]])
    assert (face['n'] == 3).all() and np.array_equal(face['index'], FACES.numpy())


def test_ply_without_colours_has_no_colour_properties(tmp_path):
    header, vertex, _ = _read_ply(write_ply(tmp_path / 'm.ply', Mesh(VERTICES, FACES)))
    assert vertex.dtype.names == ('x', 'y', 'z')
    assert not any('red' in line for line in header)


def test_obj_is_one_based_with_vertex_colours(tmp_path):
    lines = write_obj(tmp_path / 'm.obj', Mesh(VERTICES, FACES, COLOURS)).read_text().splitlines()
    v = [line.split()[1:] for line in lines if line.startswith('v ')]
    f = [line.split()[1:] for line in lines if line.startswith('f ')]
    assert np.allclose(np.array(v, float), torch.cat([VERTICES, COLOURS], 1).numpy())
    assert np.array_equal(np.array(f, int) - 1, FACES.numpy())


def test_colours_outside_the_unit_range_are_refused(tmp_path):
    with pytest.raises(ShapeError, match='vertex_colours'):
        write_ply(tmp_path / 'm.ply', Mesh(VERTICES, FACES, COLOURS * 2.0))
    with pytest.raises(ShapeError, match='mesh'):
        write_obj(tmp_path / 'm.obj', 'not a mesh')
