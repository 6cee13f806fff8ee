"""A rigid sphere moving at constant velocity: the analytic case for world and renderer tests."""

from dataclasses import replace

from lim_ros.world.builder import ObjectBuilder
from lim_ros.world.dynamic_object import DynamicObject
from lim_ros.world.primitives import Primitive
from lim_ros.world.signals import SmoothSignal
import torch


def moving_sphere(radius: float, velocity: tuple[float, float, float]) -> DynamicObject:
    """Sphere of ``radius`` centred at ``velocity * t`` (metres, seconds), not rotating."""
    builder = ObjectBuilder(torch.Generator().manual_seed(0), motion=0.0)
    builder.add(-1, Primitive.ELLIPSOID, (radius, radius, radius), along=False)
    obj = builder.build('sphere', deformation=0.0, rotation=0.0, translation=0.0)
    rate = torch.tensor([0.0, 0.0, 0.0, *velocity])
    still = SmoothSignal.constant(torch.zeros(6))
    return replace(obj, rigid_motion=replace(still, rate=rate))
