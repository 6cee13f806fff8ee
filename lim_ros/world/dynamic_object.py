"""
A procedural dynamic object and its exact ground truth at any continuous time.

Convention: points are in the reconstruction volume's unit cube [-1, 1]^3 (right-handed, z up),
time t in seconds. An object is a kinematic tree of P rounded parts. At time t a rest-frame
point p of part i maps to the world as
``x = R_rig(t) (s R_i(t) deform_i(p, t) + s T_i(t)) + T_rig(t)``
where (R_i, T_i) is the part's pose from the tree's joint angles, ``deform_i`` the part's
non-rigid deformation (see `deformation`), s the object's scale and (R_rig, T_rig) the rigid
motion of the whole object. Every stage is invertible, so the canonical position of a surface
point (where the same material point is at a reference time, t = 0 by default) is exact.

The SDF is the union (minimum) over parts of each part's rest-frame distance times s: exact
for rigid parts, a pseudo-distance under non-rigid deformation (exact zero level set and sign,
magnitude distorted by at most the deformation's stretch). Occupancy is exact everywhere.
"""

from collections.abc import Callable
import dataclasses
from dataclasses import dataclass, replace
from typing import Any

from lim_ros.errors import check_shape, ShapeError
from lim_ros.render.fields import central_difference_normals
from lim_ros.world.deformation import deform, N_PARAMS, undeform
from lim_ros.world.patterns import part_colour, PartColours
from lim_ros.world.primitives import primitive_area, primitive_sdf, project_to_surface
from lim_ros.world.rotations import axis_angle_to_matrix
from lim_ros.world.signals import KeyframeSpline, SmoothSignal
import torch

Signal = SmoothSignal | KeyframeSpline  # channels of time: value(t) (C,)


@dataclass(frozen=True)
class PartShapes:
    """Rest shapes of P parts (see `primitives`)."""

    kind: torch.Tensor  # (P,) Primitive values
    half_extents: torch.Tensor  # (P, 3) metres
    rounding: torch.Tensor  # (P,) metres


@dataclass(frozen=True)
class Skeleton:
    """
    Kinematic tree of P parts; parents come before their children (parent[0] = -1).

    A child's frame is ``parent · Trans(anchor) · Rot(rest_rotation) · Rot(joint(t)) ·
    Trans(offset)``: the joint sits at ``anchor`` in the parent's frame and the child's centre
    at ``offset`` from the joint in the child's frame. The joint rotation is the axis-angle
    vector ``angles(t) @ joint_basis`` (revolute joints use one basis row, ball joints three).
    """

    parent: tuple[int, ...]
    anchor: torch.Tensor  # (P, 3)
    rest_rotation: torch.Tensor  # (P, 3, 3)
    offset: torch.Tensor  # (P, 3)
    joint_basis: torch.Tensor  # (P, 3, 3)


@dataclass(frozen=True)
class SurfaceSamples:
    """Points exactly on the surface at one time, with their ground truth (N points)."""

    points: torch.Tensor  # (N, 3) world
    normals: torch.Tensor  # (N, 3) unit, outward
    colours: torch.Tensor  # (N, 3) RGB in [0, 1]
    canonical: torch.Tensor  # (N, 3) world position of the same material point at t_ref
    part: torch.Tensor  # (N,) part index


@dataclass(frozen=True)
class ObjectState:
    """Poses and deformation of every part at one instant (world = s-scaled, rigidly moved)."""

    rotation: torch.Tensor  # (P, 3, 3) world_R_part
    translation: torch.Tensor  # (P, 3) world position of each part's origin
    deformation: torch.Tensor  # (P, N_PARAMS)
    scale: float

    def to_rest(self, points: torch.Tensor) -> torch.Tensor:
        """Rest-frame coordinates (P, N, 3) of world points (N, 3) in every part's frame."""
        offset = points[None] - self.translation[:, None]
        local = torch.einsum('pji,pnj->pni', self.rotation, offset)
        return undeform(local / self.scale, self.deformation)

    def to_world(self, rest: torch.Tensor) -> torch.Tensor:
        """World coordinates (P, N, 3) of rest-frame points (P, N, 3) of each part."""
        local = deform(rest, self.deformation) * self.scale
        return torch.einsum('pij,pnj->pni', self.rotation, local) + self.translation[:, None]

    def select(self, part: torch.Tensor) -> 'ObjectState':
        """Return the state of parts ``part`` (N,) as N one-point parts, for per-point maps."""
        return ObjectState(
            self.rotation[part], self.translation[part], self.deformation[part], self.scale
        )


@dataclass(frozen=True)
class DynamicObject:
    """A procedural dynamic object; see the module docstring for the model of motion."""

    family: str
    shapes: PartShapes
    skeleton: Skeleton
    colours: PartColours
    joint_motion: Signal  # 3P channels: joint angles (radians)
    deformation_motion: Signal  # N_PARAMS * P channels
    rigid_motion: Signal  # 6 channels: axis-angle (radians) and translation (metres)
    scale: float = 1.0

    def to(self, device: torch.device | str) -> 'DynamicObject':
        """Copy of the object with every tensor on ``device`` (for rendering on a GPU)."""
        return _tree_to(self, torch.device(device))

    @property
    def num_parts(self) -> int:
        """Return the number of parts P."""
        return len(self.skeleton.parent)

    def state(self, t: float) -> ObjectState:
        """Poses and deformations of all parts at time ``t`` (seconds)."""
        sk = self.skeleton
        angles = self.joint_motion(t).reshape(self.num_parts, 3)
        joint = axis_angle_to_matrix(torch.einsum('pc,pcd->pd', angles, sk.joint_basis))
        local = sk.rest_rotation @ joint
        rotations: list[torch.Tensor] = []
        origins: list[torch.Tensor] = []
        for i, parent in enumerate(sk.parent):
            if parent < 0:
                rot, joint_pos = local[i], sk.anchor[i]
            else:
                rot = rotations[parent] @ local[i]
                joint_pos = origins[parent] + rotations[parent] @ sk.anchor[i]
            rotations.append(rot)
            origins.append(joint_pos + rot @ sk.offset[i])
        rigid = self.rigid_motion(t)
        rig_rot = axis_angle_to_matrix(rigid[:3])
        rotation = rig_rot @ torch.stack(rotations)
        translation = self.scale * torch.stack(origins) @ rig_rot.T + rigid[3:]
        deformation = self.deformation_motion(t).reshape(self.num_parts, N_PARAMS)
        return ObjectState(rotation, translation, deformation, self.scale)

    def chord_motion(self, t0: float, t1: float) -> 'DynamicObject':
        """
        Copy posed exactly as this object at ``t0`` and ``t1``, moving at constant speed between.

        Every joint angle, deformation parameter and rigid-pose parameter (axis-angle,
        translation) follows the chord of its signal: what an interpolator that knew the exact
        poses at two keyframes, and nothing between them, would predict.
        """
        return self._retimed(lambda signal: signal.chord(t0, t1))

    def spline_motion(self, t0: float, t1: float) -> 'DynamicObject':
        """
        Copy posed exactly as this object at t0 and t1, and between on a cubic through 4 poses.

        Every joint angle, deformation parameter and rigid-pose parameter follows the
        Catmull-Rom cubic of its values at t0 - h, t0, t1 and t1 + h, h = t1 - t0
        (`SmoothSignal.spline`):
        what an interpolator that knew the exact poses at the keyframes either side of the gap
        and one beyond each, and nothing between them, would predict.
        """
        return self._retimed(lambda signal: signal.spline(t0, t1))

    def _retimed(self, motion: Callable[[SmoothSignal], Signal]) -> 'DynamicObject':
        """Return a copy whose joint, deformation and rigid signals are ``motion`` of these."""
        return replace(self, joint_motion=motion(_smooth(self.joint_motion)),
                       deformation_motion=motion(_smooth(self.deformation_motion)),
                       rigid_motion=motion(_smooth(self.rigid_motion)))

    def _part_sdf(self, state: ObjectState, rest: torch.Tensor) -> torch.Tensor:
        s = self.shapes
        return primitive_sdf(rest, s.kind, s.half_extents, s.rounding) * state.scale

    def _locate(self, points: torch.Tensor, t: float
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """SDF (N,) and the rest coordinates (N, 3) in the nearest part, plus that part (N,)."""
        _check_points(points)
        state = self.state(t)
        rest = state.to_rest(points)
        dist = self._part_sdf(state, rest)
        sdf, part = dist.min(dim=0)
        return sdf, rest[part, torch.arange(points.shape[0], device=points.device)], part

    def sdf(self, points: torch.Tensor, t: float) -> torch.Tensor:
        """Signed (pseudo-)distance (N,) of world points (N, 3) at time t; negative inside."""
        _check_points(points)
        state = self.state(t)
        return self._part_sdf(state, state.to_rest(points)).min(dim=0).values

    def occupancy(self, points: torch.Tensor, t: float) -> torch.Tensor:
        """Whether each world point (N, 3) is inside the object at time t: bool (N,)."""
        return self.sdf(points, t) < 0

    def colour(self, points: torch.Tensor, t: float) -> torch.Tensor:
        """RGB (N, 3) of the nearest part's material at world points (N, 3) at time t."""
        _, rest, part = self._locate(points, t)
        return part_colour(rest, part, self.colours)

    def part_at(self, points: torch.Tensor, t: float) -> torch.Tensor:
        """Return the part (N,) whose material is at world points (N, 3) at t: the nearest."""
        return self._locate(points, t)[2]

    def canonical(self, points: torch.Tensor, t: float, t_ref: float = 0.0) -> torch.Tensor:
        """
        World position (N, 3) at ``t_ref`` of the material at world points (N, 3) at ``t``.

        The material belongs to the nearest part; at ``t_ref`` it lies on that part's surface,
        which may be covered by another part where parts overlap.
        """
        _, rest, part = self._locate(points, t)
        return self.state(t_ref).select(part).to_world(rest[:, None])[:, 0]

    def surface_samples(
        self, t: float, n: int, generator: torch.Generator, t_ref: float = 0.0
    ) -> SurfaceSamples:
        """
        Draw ``n`` points exactly on the surface at time t (density roughly uniform by area).

        Candidates are spread over parts by rest area, projected onto their part's rest
        surface, deformed and moved to time t; those inside another part are discarded.
        """
        if n <= 0:
            raise ShapeError(f'n: expected a positive number of samples, got {n}')
        state = self.state(t)
        kept_rest, kept_part = [], []
        total = 0
        for _ in range(20):
            rest, part = self.rest_surface(2 * n, generator)
            world = state.select(part).to_world(rest[:, None])[:, 0]
            others = self._part_sdf(state, state.to_rest(world))
            others[part, torch.arange(part.shape[0])] = torch.inf
            ok = others.min(dim=0).values > -1e-5
            kept_rest.append(rest[ok])
            kept_part.append(part[ok])
            total += int(ok.sum())
            if total >= n:
                break
        else:
            raise ShapeError(f'surface_samples: only {total} of {n} candidates on the surface')
        rest = torch.cat(kept_rest)[:n]
        part = torch.cat(kept_part)[:n]
        points = state.select(part).to_world(rest[:, None])[:, 0]
        return SurfaceSamples(
            points=points,
            normals=self.normals(points, t),
            colours=part_colour(rest, part, self.colours),
            canonical=self.state(t_ref).select(part).to_world(rest[:, None])[:, 0],
            part=part,
        )

    def rest_surface(
        self, n: int, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """
        Draw ``n`` rest-frame points (n, 3) on the parts' own surfaces, with their parts (n,).

        Parts get points in proportion to their rest area; points covered by other parts are
        kept (see `surface_samples` for points on the object's surface).
        """
        s = self.shapes
        part = torch.multinomial(primitive_area(s.kind, s.half_extents), n, replacement=True,
                                 generator=generator)
        direction = torch.randn(n, 3, generator=generator)
        direction = direction / direction.norm(dim=-1, keepdim=True)
        rest = project_to_surface(
            (direction * s.half_extents[part])[:, None],
            s.kind[part],
            s.half_extents[part],
            s.rounding[part],
        )
        return rest[:, 0], part

    def normals(self, points: torch.Tensor, t: float, eps: float = 1e-4) -> torch.Tensor:
        """Return unit outward normals, (N, 3): the central-difference SDF gradient, normalised."""
        _check_points(points)
        return central_difference_normals(lambda p: self.sdf(p, t), points, eps)

    def fitted_to_volume(
        self, half_size: float = 0.85, duration: float = 4.0, samples: int = 1500
    ) -> 'DynamicObject':
        """
        Rescale and recentre so that the object stays within ``[-half_size, half_size]^3``.

        Checked at 13 times over ``[0, duration]`` seconds on points of every part's surface
        (the farthest of those is on the object's surface), using the object-frame radius so
        any rigid rotation is covered, minus the largest rigid translation.
        """
        still = SmoothSignal.constant(torch.zeros(6))
        unit = replace(self, scale=1.0, rigid_motion=still)
        rest, part = unit.rest_surface(samples, torch.Generator().manual_seed(0))

        def points_at(obj: DynamicObject, t: float) -> torch.Tensor:
            return obj.state(t).select(part).to_world(rest[:, None])[:, 0]

        start = points_at(unit, 0.0)
        centre = 0.5 * (start.max(dim=0).values + start.min(dim=0).values)
        anchor = self.skeleton.anchor.clone()
        anchor[0] = anchor[0] - centre
        unit = replace(unit, skeleton=replace(self.skeleton, anchor=anchor))
        radius = max(
            float(points_at(unit, float(t)).norm(dim=-1).max())
            for t in torch.linspace(0.0, duration, 13)
        )
        rigid = _smooth(self.rigid_motion)
        translation = rigid.amplitude[3:].abs().sum(dim=-1).max().item()
        translation += rigid.offset[3:].abs().max().item()
        scale = (half_size - translation) / radius
        if scale <= 0:
            raise ShapeError(f'rigid translation {translation:.2f} leaves no room in the volume')
        return replace(self, skeleton=unit.skeleton, scale=scale)


def _smooth(signal: Signal) -> SmoothSignal:
    """Return ``signal`` if it is a `SmoothSignal`; a retimed one (a spline) has no sinusoids."""
    if not isinstance(signal, SmoothSignal):
        raise ShapeError(f'expected an object whose motions are smooth signals, got a '
                         f'{type(signal).__name__} (an object already retimed by chord_motion '
                         f'or spline_motion)')
    return signal


def _tree_to(value: Any, device: torch.device) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _tree_to(getattr(value, f.name), device)
                  for f in dataclasses.fields(value)}
        return replace(value, **fields)
    return value.to(device) if isinstance(value, torch.Tensor) else value


def _check_points(points: torch.Tensor) -> None:
    check_shape('points', tuple(points.shape), (None, 3))
    if not torch.isfinite(points).all():
        raise ShapeError('points: expected finite coordinates, found NaN or inf')
