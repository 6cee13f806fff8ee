"""Tests of serialising one reconstruction as the node's outputs (lim_ros.engine.messages)."""

from lim_ros.engine import PointCloud, Reconstruction
from lim_ros.engine.messages import colour_bytes, output_messages
from lim_ros.errors import ShapeError
from lim_ros.geometry.mesh import Mesh
from lim_ros.wire import parse_indexed_mesh_cdr, parse_point_cloud_cdr
import numpy as np
import pytest
import torch


def test_colours_are_rounded_to_bytes_and_never_clamped():
    assert colour_bytes(torch.tensor([[0.0, 0.5, 1.0]])).tolist() == [[0, 128, 255]]
    assert colour_bytes(None) is None
    with pytest.raises(ShapeError, match='colours'):
        colour_bytes(torch.tensor([[0.0, 0.5, 1.5]]))


def test_output_messages_carry_the_stamp_frame_and_geometry():
    vertices = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    mesh = Mesh(vertices, torch.tensor([[0, 1, 2]]), torch.full((3, 3), 0.25))
    points = PointCloud(vertices[:2], torch.ones(2, 3))
    messages = output_messages(Reconstruction(123, mesh, points), 'lim_volume')
    cloud = parse_point_cloud_cdr(messages.points)
    indexed = parse_indexed_mesh_cdr(messages.mesh)
    assert (cloud.stamp_ns, cloud.frame_id) == (123, 'lim_volume')
    assert np.array_equal(cloud.points, vertices[:2].numpy())
    assert (cloud.colours == 255).all() and (indexed.colours == 64).all()
    assert np.array_equal(indexed.faces, [[0, 1, 2]])
    assert isinstance(messages.marker, bytes) and len(messages.marker) > 3 * 24
