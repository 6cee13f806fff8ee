"""
Tracks to files: one animated glTF binary (GLB), and OBJ + MTL + PNG per frame.

Convention: a track is a list of `TrackedMesh` frames of one anchor (same faces, UVs and
texture), in the volume frame (metres; glTF's +Y-up convention is NOT applied: the file keeps
REP 103's z-up, as the other exports do). In the GLB the first frame is the base mesh and every
later frame a morph target (its displacement from the first), animated by step weights at the
frames' times (seconds from the first frame); the texture is embedded as PNG. glTF and OBJ put
the UV origin at the image's top-left and bottom-left respectively, so glTF gets ``1 - v``.
"""

from pathlib import Path

from lim_ros.errors import ShapeError
from lim_ros.geometry.tracking import TrackedMesh
import numpy as np


def _check_track(frames: list[TrackedMesh]) -> None:
    if not frames or not all(isinstance(f, TrackedMesh) for f in frames):
        raise ShapeError('frames: expected a non-empty list of TrackedMesh')
    ids = {f.anchor.track_id for f in frames}
    if len(ids) != 1:
        raise ShapeError(f'frames: expected frames of one track, got tracks {sorted(ids)}')
    stamps = [f.stamp_ns for f in frames]
    if any(b <= a for a, b in zip(stamps, stamps[1:])):
        raise ShapeError('frames: expected strictly increasing stamps')


def write_track_glb(path: Path, frames: list[TrackedMesh]) -> Path:
    """
    Write ``frames`` as one animated GLB (morph targets, step weights); return ``path``.

    :raises ShapeError: if ``frames`` is empty, mixes tracks, or its stamps do not increase.
    """
    _check_track(frames)
    try:
        import pygltflib as gl
    except ImportError as e:
        raise ImportError('GLB export needs the package pygltflib (pip install pygltflib)') from e
    anchor = frames[0].anchor
    base = frames[0].vertices.cpu().numpy().astype(np.float32)
    targets = [f.vertices.cpu().numpy().astype(np.float32) - base for f in frames[1:]]
    uvs = frames[0].uvs.cpu().numpy().astype(np.float32).copy()
    uvs[:, 1] = 1.0 - uvs[:, 1]
    indices = frames[0].faces.cpu().numpy().astype(np.uint32).reshape(-1)
    times = np.array([(f.stamp_ns - frames[0].stamp_ns) * 1e-9 for f in frames], np.float32)
    weights = np.zeros((len(frames), len(targets)), np.float32)
    for i in range(1, len(frames)):
        weights[i, i - 1] = 1.0
    blobs: list[tuple[bytes, int | None]] = []  # (bytes, buffer-view target)

    def add(data: bytes, target: int | None = None) -> int:
        blobs.append((data, target))
        return len(blobs) - 1

    accessors: list[gl.Accessor] = []

    def accessor(array: np.ndarray, kind: str, component: int, target: int | None = None,
                 bounds: bool = False) -> int:
        view = add(array.tobytes(), target)
        extra = {'min': array.min(axis=0).tolist(), 'max': array.max(axis=0).tolist()} \
            if bounds else {}
        accessors.append(gl.Accessor(bufferView=view, componentType=component,
                                     count=len(array), type=kind, **extra))
        return len(accessors) - 1

    position = accessor(base, gl.VEC3, gl.FLOAT, gl.ARRAY_BUFFER, bounds=True)
    texcoord = accessor(uvs, gl.VEC2, gl.FLOAT, gl.ARRAY_BUFFER)
    index = accessor(indices, gl.SCALAR, gl.UNSIGNED_INT, gl.ELEMENT_ARRAY_BUFFER)
    morphs = [{'POSITION': accessor(t, gl.VEC3, gl.FLOAT, gl.ARRAY_BUFFER, bounds=True)}
              for t in targets]
    image_view = add(anchor.texture_png)
    animations = []
    if targets:
        time_input = accessor(times[:, None], gl.SCALAR, gl.FLOAT, bounds=True)
        weight_output = accessor(weights.reshape(-1, 1), gl.SCALAR, gl.FLOAT)
        animations = [gl.Animation(
            name=f'track_{anchor.track_id}',
            samplers=[gl.AnimationSampler(input=time_input, output=weight_output,
                                          interpolation=gl.ANIM_STEP)],
            channels=[gl.AnimationChannel(sampler=0, target=gl.AnimationChannelTarget(
                node=0, path=gl.WEIGHTS))])]
    offsets, data = [], b''
    for blob, _ in blobs:
        data += b'\0' * (-len(data) % 4)
        offsets.append(len(data))
        data += blob
    primitive = gl.Primitive(attributes=gl.Attributes(POSITION=position, TEXCOORD_0=texcoord),
                             indices=index, material=0, targets=morphs or None)
    gltf = gl.GLTF2(
        scene=0, scenes=[gl.Scene(nodes=[0])],
        nodes=[gl.Node(mesh=0, name=f'track_{anchor.track_id}')],
        meshes=[gl.Mesh(primitives=[primitive], weights=[0.0] * len(targets) or None)],
        materials=[gl.Material(pbrMetallicRoughness=gl.PbrMetallicRoughness(
            baseColorTexture=gl.TextureInfo(index=0), metallicFactor=0.0), doubleSided=True)],
        textures=[gl.Texture(source=0, sampler=0)],
        samplers=[gl.Sampler(magFilter=gl.LINEAR, minFilter=gl.LINEAR)],
        images=[gl.Image(bufferView=image_view, mimeType='image/png')],
        accessors=accessors,
        bufferViews=[gl.BufferView(buffer=0, byteOffset=o, byteLength=len(b), target=t)
                     for o, (b, t) in zip(offsets, blobs)],
        buffers=[gl.Buffer(byteLength=len(data))],
        animations=animations,
    )
    gltf.set_binary_blob(data)
    path = Path(path)
    gltf.save_binary(str(path))
    return path


def write_track_obj(directory: Path, frames: list[TrackedMesh]) -> list[Path]:
    """
    Write ``track_<id>_<k>.obj`` per frame, sharing ``track_<id>.mtl`` and ``track_<id>.png``.

    :return: the OBJ paths, in frame order.
    :raises ShapeError: as `write_track_glb`.
    """
    _check_track(frames)
    anchor = frames[0].anchor
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    stem = f'track_{anchor.track_id}'
    (directory / f'{stem}.png').write_bytes(anchor.texture_png)
    (directory / f'{stem}.mtl').write_text(
        f'newmtl {stem}\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nmap_Kd {stem}.png\n')
    uvs = frames[0].uvs.cpu().numpy()
    faces = frames[0].faces.cpu().numpy() + 1
    paths = []
    for k, frame in enumerate(frames):
        path = directory / f'{stem}_{k:04d}.obj'
        with path.open('w') as f:
            f.write(f'# lim_ros track {anchor.track_id}, stamp {frame.stamp_ns} ns\n'
                    f'mtllib {stem}.mtl\n')
            np.savetxt(f, frame.vertices.cpu().numpy(), fmt='v %.6f %.6f %.6f')
            np.savetxt(f, uvs, fmt='vt %.6f %.6f')
            f.write(f'usemtl {stem}\n')
            np.savetxt(f, np.repeat(faces, 2, axis=1), fmt='f %d/%d %d/%d %d/%d')
        paths.append(path)
    return paths
