"""
Families of procedural dynamic objects, and the default split into seen and held-out.

Each family is a function ``(builder) -> DynamicObject`` drawing sizes, proportions and motion
from the builder's generator. `make_object(family, seed)` is deterministic and returns an
object fitted to the reconstruction volume. Sizes below are before that fitting.
"""

from collections.abc import Callable
import zlib

from lim_ros.errors import ConfigError
from lim_ros.world.builder import ObjectBuilder
from lim_ros.world.dynamic_object import DynamicObject
from lim_ros.world.primitives import Primitive
import torch

LIMB_KINDS = (Primitive.CAPSULE, Primitive.ROUNDED_BOX, Primitive.ELLIPSOID)


def _limb_kind(b: ObjectBuilder) -> Primitive:
    return LIMB_KINDS[int(torch.multinomial(torch.tensor([0.6, 0.25, 0.15]), 1, generator=b.g))]


def _any_kind(b: ObjectBuilder) -> Primitive:
    return Primitive(int(torch.randint(0, 3, (1,), generator=b.g)))


def chain(b: ObjectBuilder) -> DynamicObject:
    """Build a serial chain of 2-6 segments on revolute joints: a snake, an arm."""
    n = int(torch.randint(2, 7, (1,), generator=b.g))
    parent = -1
    half_length = 0.0
    for i in range(n):
        hl = float(b.uniform(0.15, 0.32))
        r = float(b.uniform(0.05, 0.11))
        tilt = b.random_unit() * 0.3 + torch.tensor([0.0, 0.0, 1.0])
        parent = b.add(
            parent,
            _limb_kind(b),
            (r, r * float(b.uniform(0.7, 1.0)), hl),
            anchor=(0.0, 0.0, half_length),
            direction=tilt if i else (0.0, 0.0, 1.0),
            joint='revolute' if i else 'fixed',
            amplitude=float(b.uniform(0.5, 1.3)),
        )
        half_length = hl
    return b.build('chain', deformation=float(b.uniform(0.0, 0.4)), rotation=0.8)


def humanoid(b: ObjectBuilder) -> DynamicObject:
    """Build a torso, a head, two arms and two legs (1-2 segments each) on ball joints."""
    w, d, h = (float(b.uniform(low, high)) for low, high in ((0.14, 0.22), (0.08, 0.13),
                                                             (0.2, 0.3)))
    torso = b.add(-1, Primitive.ROUNDED_BOX, (w, d, h), along=False)
    head_r = float(b.uniform(0.08, 0.12))
    b.add(torso, Primitive.ELLIPSOID, (head_r, head_r, head_r * 1.15), anchor=(0, 0, h),
          joint='ball', amplitude=0.4)
    limbs = ((2, w, h * 0.8, (0.3, 0, -1), 1.3), (2, w * 0.5, -h, (0, 0, -1), 0.9))
    for segments, x, z, down, amp in limbs:
        for side in (-1.0, 1.0):
            parent, anchor = torso, (side * (x + 0.04), 0.0, z)
            n = segments if float(b.uniform(0, 1)) < 0.7 else 1
            for _ in range(n):
                hl = float(b.uniform(0.12, 0.2)) * (2 / n) ** 0.5
                r = float(b.uniform(0.04, 0.07))
                direction = torch.tensor([side * down[0], down[1], down[2]])
                parent = b.add(parent, _limb_kind(b), (r, r, hl), anchor=anchor,
                               direction=direction if parent == torso else (0, 0, 1),
                               joint='ball', amplitude=amp)
                anchor = (0.0, 0.0, hl)
    return b.build('humanoid', deformation=float(b.uniform(0.0, 0.3)), rotation=1.2)


def blob(b: ObjectBuilder) -> DynamicObject:
    """Build one or two rounded bodies that squash, twist, bend and ripple (non-rigid)."""
    size = b.uniform(0.2, 0.45, 3)
    body = b.add(-1, _any_kind(b), tuple(size.tolist()), along=False)
    if float(b.uniform(0, 1)) < 0.5:
        small = b.uniform(0.1, 0.2, 3)
        b.add(body, _any_kind(b), tuple(small.tolist()), anchor=(0.0, 0.0, float(size[2])),
              joint='ball', amplitude=0.5)
    return b.build('blob', deformation=float(b.uniform(0.6, 1.0)), rotation=1.0)


def worm(b: ObjectBuilder) -> DynamicObject:
    """Build a long capsule (or two) that bends, twists and carries a travelling wave."""
    hl, r = float(b.uniform(0.45, 0.7)), float(b.uniform(0.07, 0.13))
    body = b.add(-1, Primitive.CAPSULE, (r, r, hl), direction=b.random_unit() + 2 * torch.tensor(
        [0.0, 0.0, 1.0]), along=False)
    if float(b.uniform(0, 1)) < 0.4:
        b.add(body, Primitive.CAPSULE, (r * 0.8, r * 0.8, hl * 0.6), anchor=(0.0, 0.0, hl),
              joint='revolute', amplitude=1.0)
    return b.build('worm', deformation=float(b.uniform(0.7, 1.0)), rotation=1.0)


def tumbler(b: ObjectBuilder) -> DynamicObject:
    """Build two to four parts rigidly fixed together, tumbling as a rigid body."""
    n = int(torch.randint(2, 5, (1,), generator=b.g))
    root = b.add(-1, _any_kind(b), tuple(b.uniform(0.12, 0.3, 3).tolist()), along=False)
    for _ in range(n - 1):
        b.add(root, _any_kind(b), tuple(b.uniform(0.08, 0.2, 3).tolist()),
              anchor=b.random_unit() * 0.15, direction=b.random_unit())
    return b.build('tumbler', deformation=0.0, rotation=2.5, translation=0.12)


def quadruped(b: ObjectBuilder) -> DynamicObject:
    """Build a horizontal torso, a head, four 1-2 segment legs and, with short legs, a tail."""
    length, width = float(b.uniform(0.25, 0.4)), float(b.uniform(0.1, 0.16))
    torso = b.add(-1, _limb_kind(b), (width, width * 0.9, length), direction=(1, 0, 0),
                  along=False)
    b.add(torso, Primitive.ELLIPSOID, (0.08, 0.07, 0.12), anchor=(-width, 0.0, length),
          direction=(-0.5, 0, 0.85), joint='ball', amplitude=0.4)
    segments = 2 if float(b.uniform(0, 1)) < 0.6 else 1
    leg = float(b.uniform(0.25, 0.4)) / segments
    for along_body in (-0.7, 0.7):
        for side in (-1.0, 1.0):
            parent, anchor = torso, (width * 0.6, side * width * 0.6, along_body * length)
            for s in range(segments):
                parent = b.add(parent, Primitive.CAPSULE, (0.045, 0.045, leg), anchor=anchor,
                               direction=(1, 0, 0) if s == 0 else (0, 0, 1),
                               joint='revolute', axis=torch.tensor([0.0, 1.0, 0.0]),
                               amplitude=0.9)
                anchor = (0.0, 0.0, leg)
    if segments == 1:
        b.add(torso, Primitive.CAPSULE, (0.03, 0.03, 0.15), anchor=(0.0, 0.0, -length),
              direction=(-0.5, 0, -1), joint='ball', amplitude=0.8)
    return b.build('quadruped', deformation=float(b.uniform(0.0, 0.3)), rotation=1.0)


def starfish(b: ObjectBuilder) -> DynamicObject:
    """Build a flat central body with 3-6 radial arms that flap on revolute joints and bend."""
    radius = float(b.uniform(0.12, 0.2))
    body = b.add(-1, Primitive.ELLIPSOID, (radius, radius, radius * 0.5), along=False)
    n = int(torch.randint(3, 7, (1,), generator=b.g))
    arm = float(b.uniform(0.2, 0.35))
    for i in range(n):
        angle = 2.0 * torch.pi * i / n
        out = torch.tensor([float(torch.cos(torch.tensor(angle))),
                            float(torch.sin(torch.tensor(angle))), 0.0])
        b.add(body, Primitive.CAPSULE, (0.06, 0.05, arm), anchor=out * radius * 0.8,
              direction=out, joint='revolute', axis=torch.tensor([-out[1], out[0], 0.0]),
              amplitude=1.0)
    return b.build('starfish', deformation=float(b.uniform(0.3, 0.7)), rotation=1.5)


def creature(b: ObjectBuilder) -> DynamicObject:
    """
    Build a random body with 2-6 thin limbs of 1-3 segments in random directions (≤ 10 parts).

    A training-only family (domain randomisation): limb count, placement, direction and joints
    are all drawn, so no particular animal layout is favoured.
    """
    size = b.uniform(0.1, 0.3, 3)
    body = last = b.add(-1, _any_kind(b), tuple(size.tolist()), along=False)
    for _ in range(int(torch.randint(2, 7, (1,), generator=b.g))):
        segments = min(int(torch.randint(1, 4, (1,), generator=b.g)), 9 - last)  # ≤ 10 parts
        out = b.random_unit()
        parent = body
        anchor: torch.Tensor | tuple[float, float, float] = out * size * 0.8
        r = float(b.uniform(0.03, 0.07))
        joint = 'revolute' if float(b.uniform(0, 1)) < 0.5 else 'ball'
        for s in range(segments):
            hl = float(b.uniform(0.1, 0.3)) / segments ** 0.5
            bend = b.random_unit() * 0.5 + torch.tensor([0.0, 0.0, 1.0])
            parent = b.add(parent, _limb_kind(b), (r, r, hl), anchor=anchor,
                           direction=out if s == 0 else bend, joint=joint,
                           amplitude=float(b.uniform(0.4, 1.2)))
            anchor = (0.0, 0.0, hl)
        last = max(last, parent)
    return b.build('creature', deformation=float(b.uniform(0.0, 0.4)), rotation=1.2)


FAMILIES: dict[str, Callable[[ObjectBuilder], DynamicObject]] = {
    'chain': chain,
    'humanoid': humanoid,
    'blob': blob,
    'worm': worm,
    'tumbler': tumbler,
    'quadruped': quadruped,
    'starfish': starfish,
    'creature': creature,
}
HELD_OUT_FAMILIES = ('quadruped', 'starfish')
TRAINING_ONLY_FAMILIES = ('creature',)  # in no evaluation set; add with `data cache --families`
SEEN_FAMILIES = tuple(f for f in FAMILIES if f not in HELD_OUT_FAMILIES + TRAINING_ONLY_FAMILIES)


def check_families(families: tuple[str, ...] | list[str]) -> None:
    """Raise ConfigError unless every name is a known family."""
    unknown = [f for f in families if f not in FAMILIES]
    if unknown or not families:
        raise ConfigError(f'families: expected names from {sorted(FAMILIES)}, got {families}')


def make_object(family: str, seed: int, motion: float | None = None) -> DynamicObject:
    """
    Build object number ``seed`` of ``family``, fitted to the volume; deterministic.

    ``motion`` in [0, 1] scales joint and rigid motion; by default it is drawn in [0.2, 1].
    """
    check_families([family])
    generator = torch.Generator().manual_seed(zlib.crc32(f'{family}:{seed}'.encode()))
    scale = float(0.2 + 0.8 * torch.rand((), generator=generator)) if motion is None else motion
    builder = ObjectBuilder(generator, scale)
    return FAMILIES[family](builder).fitted_to_volume()
