"""Tests for lim_ros.geometry.track_export: a translated sphere track read back from its files."""

from lim_ros.errors import ShapeError
from lim_ros.geometry import evaluate_on_grid, extract_mesh
from lim_ros.geometry.track_export import write_track_glb, write_track_obj
from lim_ros.geometry.tracking import TrackAnchor, TrackedMesh
from lim_ros.geometry.uv_atlas import unwrap
import numpy as np
from PIL import Image
import pygltflib
import pytest
import torch

SECOND = 1_000_000_000


def frames(track_id: int = 3, count: int = 3) -> list[TrackedMesh]:
    mesh = extract_mesh(evaluate_on_grid(lambda p: p.norm(dim=-1) - 0.5, 16))
    atlas = unwrap(mesh)
    texture = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    base = atlas.expand(mesh.vertices)
    anchor = TrackAnchor(track_id, 5 * SECOND, atlas, base, texture, mesh.vertices)
    return [TrackedMesh(5 * SECOND + k * SECOND // 10, anchor,
                        base + torch.tensor([0.1 * k, 0.0, 0.0]), 0.0, k == 0)
            for k in range(count)]


def accessor_array(gltf: pygltflib.GLTF2, index: int) -> np.ndarray:
    accessor = gltf.accessors[index]
    view = gltf.bufferViews[accessor.bufferView]
    blob = gltf.binary_blob()[view.byteOffset:view.byteOffset + view.byteLength]
    dtype = {pygltflib.FLOAT: np.float32, pygltflib.UNSIGNED_INT: np.uint32}[
        accessor.componentType]
    width = {'SCALAR': 1, 'VEC2': 2, 'VEC3': 3}[accessor.type]
    return np.frombuffer(blob, dtype).reshape(accessor.count, width)


def test_glb_holds_the_base_mesh_one_morph_target_per_frame_and_step_weights(tmp_path):
    track = frames()
    gltf = pygltflib.GLTF2().load_binary(str(write_track_glb(tmp_path / 't.glb', track)))
    primitive = gltf.meshes[0].primitives[0]
    base = accessor_array(gltf, primitive.attributes.POSITION)
    assert np.allclose(base, track[0].vertices.numpy())
    assert len(primitive.targets) == 2
    for k, target in enumerate(primitive.targets, start=1):
        moved = base + accessor_array(gltf, target['POSITION'])
        assert np.allclose(moved, track[k].vertices.numpy(), atol=1e-6)
    faces = accessor_array(gltf, primitive.indices).reshape(-1, 3)
    assert np.array_equal(faces, track[0].faces.numpy())
    uvs = accessor_array(gltf, primitive.attributes.TEXCOORD_0)
    assert np.allclose(uvs[:, 1], 1.0 - track[0].uvs[:, 1].numpy())  # glTF: v down
    sampler = gltf.animations[0].samplers[0]
    assert np.allclose(accessor_array(gltf, sampler.input)[:, 0], [0.0, 0.1, 0.2])
    weights = accessor_array(gltf, sampler.output).reshape(3, 2)
    assert np.array_equal(weights, [[0, 0], [1, 0], [0, 1]])
    assert sampler.interpolation == 'STEP'
    image = gltf.images[0]
    view = gltf.bufferViews[image.bufferView]
    png = gltf.binary_blob()[view.byteOffset:view.byteOffset + view.byteLength]
    assert png[:8] == b'\x89PNG\r\n\x1a\n'


def test_obj_per_frame_shares_texture_and_uvs(tmp_path):
    track = frames()
    paths = write_track_obj(tmp_path, track)
    assert [p.name for p in paths] == [f'track_3_{k:04d}.obj' for k in range(3)]
    texture = np.asarray(Image.open(tmp_path / 'track_3.png'))
    assert np.array_equal(texture, track[0].anchor.texture)
    assert 'map_Kd track_3.png' in (tmp_path / 'track_3.mtl').read_text()
    for path, frame in zip(paths, track):
        lines = path.read_text().splitlines()
        vertices = np.array([[float(x) for x in line.split()[1:]]
                             for line in lines if line.startswith('v ')])
        assert np.allclose(vertices, frame.vertices.numpy(), atol=1e-5)
        assert sum(line.startswith('vt ') for line in lines) == len(vertices)
        assert sum(line.startswith('f ') for line in lines) == frame.faces.shape[0]


def test_bad_tracks_are_refused(tmp_path):
    with pytest.raises(ShapeError, match='non-empty'):
        write_track_glb(tmp_path / 'a.glb', [])
    with pytest.raises(ShapeError, match='one track'):
        write_track_obj(tmp_path, frames(1)[:1] + frames(2)[1:])
    with pytest.raises(ShapeError, match='increasing'):
        write_track_glb(tmp_path / 'a.glb', frames()[::-1])
