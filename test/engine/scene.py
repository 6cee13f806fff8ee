"""A small rendered scene shared by the engine tests: one object, the 4-view rig, uint8 views."""

from lim_ros.cameras import Cameras, rig
from lim_ros.data.preview import to_uint8
from lim_ros.render.sphere_tracer import render
from lim_ros.world.families import make_object
import numpy as np

OBJECT = ('humanoid', 3)


def camera_images(t: float, size: int = 64, obj=None) -> tuple[np.ndarray, Cameras]:
    """Return the rig's views (4, size, size, 3) uint8 of the test object at ``t``, and cameras."""
    obj = obj or make_object(*OBJECT)
    cameras = rig(4, size)
    return to_uint8(render(obj, cameras, t).rgb), cameras
