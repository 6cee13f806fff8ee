"""Incremental construction of a `DynamicObject` from parts, joints and random motions."""

from lim_ros.world.deformation import (
    BEND,
    BEND_ANGLE,
    N_PARAMS,
    SQUASH,
    TWIST,
    WAVE_AMPLITUDE,
    WAVE_NUMBER,
    WAVE_PHASE,
)
from lim_ros.world.dynamic_object import DynamicObject, PartShapes, Skeleton
from lim_ros.world.patterns import N_WAVES, PartColours
from lim_ros.world.primitives import Primitive
from lim_ros.world.rotations import axis_angle_to_matrix
from lim_ros.world.signals import SmoothSignal
import torch

Z_AXIS = torch.tensor([0.0, 0.0, 1.0])
JOINT_FREQUENCIES = (0.2, 0.8)  # Hz: up to about 90° of rotation in half a second
PATTERN_WEIGHTS = torch.tensor([0.1, 0.3, 0.35, 0.25])  # plain, stripes, checker, noise


def rotation_from_z(direction: torch.Tensor) -> torch.Tensor:
    """Rotation (3, 3) taking the z axis onto ``direction`` (3,) by the shortest arc."""
    d = direction / direction.norm()
    axis = torch.linalg.cross(Z_AXIS, d)
    sin, cos = axis.norm(), torch.dot(Z_AXIS, d)
    if sin < 1e-8:
        flip = torch.tensor([torch.pi, 0.0, 0.0]) if cos < 0 else torch.zeros(3)
        return axis_angle_to_matrix(flip)
    return axis_angle_to_matrix(axis / sin * torch.atan2(sin, cos))


class ObjectBuilder:
    """
    Collects parts of one object, drawing their random motion and colour from ``generator``.

    ``motion`` scales every joint amplitude (0: still, 1: the family's largest motion).
    """

    def __init__(self, generator: torch.Generator, motion: float) -> None:
        """Start an object with no parts."""
        self.g = generator
        self.motion = motion
        self._parts: list[dict] = []

    def uniform(self, low: float, high: float, *shape: int) -> torch.Tensor:
        """Uniform samples in [low, high) of the given shape (a 0-d tensor when no shape)."""
        return low + (high - low) * torch.rand(shape, generator=self.g)

    def random_unit(self, planar: bool = False) -> torch.Tensor:
        """Random unit vector (3,), in the xy plane when ``planar``."""
        v = torch.randn(3, generator=self.g)
        if planar:
            v[2] = 0.0
        return v / v.norm()

    def add(
        self,
        parent: int,
        kind: Primitive,
        half_extents: tuple[float, float, float] | torch.Tensor,
        anchor: tuple[float, float, float] | torch.Tensor = (0.0, 0.0, 0.0),
        direction: tuple[float, float, float] | torch.Tensor = (0.0, 0.0, 1.0),
        joint: str = 'fixed',
        axis: torch.Tensor | None = None,
        amplitude: float = 0.0,
        along: bool = True,
    ) -> int:
        """
        Add a part and return its index.

        The part's z axis points along ``direction`` (in the parent's frame) from a joint at
        ``anchor``; with ``along`` its centre sits half a length further, so it hangs from
        the joint. ``joint`` is 'fixed', 'revolute' (about ``axis``) or 'ball'; ``amplitude``
        (radians) is the joint's peak rotation before the builder's motion scale.
        """
        he = torch.as_tensor(half_extents, dtype=torch.float32)
        basis = torch.zeros(3, 3)
        if joint == 'revolute':
            basis[0] = self.random_unit(planar=True) if axis is None else axis
        elif joint == 'ball':
            basis = torch.eye(3)
        elif joint != 'fixed':
            raise ValueError(f'joint: expected fixed, revolute or ball, got {joint!r}')
        self._parts.append(
            {
                'parent': parent,
                'kind': int(kind),
                'half_extents': he,
                'rounding': float(he.min()) * float(self.uniform(0.2, 0.6)),
                'anchor': torch.as_tensor(anchor, dtype=torch.float32),
                'rest_rotation': rotation_from_z(torch.as_tensor(direction, dtype=torch.float32)),
                'offset': torch.tensor([0.0, 0.0, float(he[2]) if along else 0.0]),
                'joint_basis': basis,
                'amplitude': amplitude * self.motion,
            }
        )
        return len(self._parts) - 1

    def deformation(self, strength: float) -> SmoothSignal:
        """Random non-rigid deformation of every part; ``strength`` in [0, 1] scales it."""
        signals = []
        for _ in self._parts:
            amp = torch.zeros(N_PARAMS)
            amp[SQUASH] = 0.25 * strength
            amp[TWIST] = 2.0 * strength
            amp[BEND] = 1.2 * strength
            signal = SmoothSignal.random(self.g, N_PARAMS, amp)
            offset = signal.offset.clone()
            rate = signal.rate.clone()
            offset[BEND_ANGLE] = float(self.uniform(0.0, 2.0 * torch.pi))
            offset[WAVE_AMPLITUDE] = 0.15 * strength * float(self.uniform(0.3, 1.0))
            offset[WAVE_NUMBER] = float(self.uniform(8.0, 20.0))
            rate[WAVE_PHASE] = float(self.uniform(2.0, 6.0))
            for i in (BEND_ANGLE, WAVE_AMPLITUDE, WAVE_NUMBER, WAVE_PHASE):
                signal.amplitude[i] = 0.0
            signals.append(
                SmoothSignal(offset, signal.amplitude, signal.frequency, signal.phase, rate)
            )
        return SmoothSignal.concat(signals)

    def colours(self) -> PartColours:
        """Random base/accent colours and patterns for every part."""
        p = len(self._parts)
        hue = self.uniform(0.0, 1.0, p)
        base = _hsv_to_rgb(hue, self.uniform(0.4, 0.9, p), self.uniform(0.55, 0.95, p))
        accent = _hsv_to_rgb(
            torch.remainder(hue + self.uniform(0.3, 0.7, p), 1.0),
            self.uniform(0.3, 0.9, p),
            self.uniform(0.25, 0.6, p),
        )
        directions = torch.randn(p, N_WAVES, 3, generator=self.g)
        return PartColours(
            base=base,
            accent=accent,
            pattern=torch.multinomial(PATTERN_WEIGHTS, p, replacement=True, generator=self.g),
            frequency=self.uniform(5.0, 12.0, p),
            directions=directions / directions.norm(dim=-1, keepdim=True),
            phases=self.uniform(0.0, 2.0 * torch.pi, p, N_WAVES),
        )

    def build(
        self, family: str, deformation: float, rotation: float, translation: float = 0.08
    ) -> DynamicObject:
        """
        Finish the object: colours, a deformation of ``deformation`` strength and rigid motion.

        ``rotation`` (radians) is the rigid motion's peak yaw; tilt gets a third of it.
        """
        parts = self._parts
        joint_amp = torch.stack(
            [torch.full((3,), p['amplitude']) / (3.0 ** 0.5 if p['joint_basis'][1].any() else 1.0)
             for p in parts]
        ).flatten()
        rigid_amp = torch.tensor([rotation / 3, rotation / 3, rotation] + [translation] * 3)
        return DynamicObject(
            family=family,
            shapes=PartShapes(
                kind=torch.tensor([p['kind'] for p in parts]),
                half_extents=torch.stack([p['half_extents'] for p in parts]),
                rounding=torch.tensor([p['rounding'] for p in parts]),
            ),
            skeleton=Skeleton(
                parent=tuple(p['parent'] for p in parts),
                anchor=torch.stack([p['anchor'] for p in parts]),
                rest_rotation=torch.stack([p['rest_rotation'] for p in parts]),
                offset=torch.stack([p['offset'] for p in parts]),
                joint_basis=torch.stack([p['joint_basis'] for p in parts]),
            ),
            colours=self.colours(),
            joint_motion=SmoothSignal.random(self.g, 3 * len(parts), joint_amp,
                                             frequency_range=JOINT_FREQUENCIES),
            deformation_motion=self.deformation(deformation),
            rigid_motion=SmoothSignal.random(self.g, 6, rigid_amp * self.motion),
        )


def _hsv_to_rgb(h: torch.Tensor, s: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """HSV in [0, 1] (N,) each to RGB (N, 3)."""
    k = torch.remainder(torch.tensor([5.0, 3.0, 1.0]) + h[:, None] * 6.0, 6.0)
    return v[:, None] - v[:, None] * s[:, None] * (torch.minimum(k, 4.0 - k).clamp(0.0, 1.0))
