"""A sphere of radius RADIUS and rotations about z: the analytic scene of the tracking tests."""

import math

import torch

RADIUS = 0.5


def rotation_z(angle: float) -> torch.Tensor:
    """Return the (3, 3) rotation by ``angle`` radians about z."""
    c, s = math.cos(angle), math.sin(angle)
    return torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
