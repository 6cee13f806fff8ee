"""
Flows from an instant between two keyframes back to both, under a linear-motion assumption.

Jiang et al., Super SloMo (CVPR 2018), eq. 4: from the flows F_0→1 and F_1→0 between the
keyframes, F_α→0 = -(1 - α) α F_0→1 + α² F_1→0 and F_α→1 = (1 - α)² F_0→1 - α (1 - α) F_1→0.
The frame at α then blends both keyframes backward-warped along them, weighted by 1 - α and α.
Works on NumPy arrays and torch tensors alike; α is a number or broadcasts against the flows.
"""

from typing import Any, TypeVar

Flow = TypeVar('Flow')


def flows_to_keyframes(f01: Flow, f10: Flow, a: Any) -> tuple[Flow, Flow]:
    """Return (F_α→0, F_α→1) at α = ``a`` from F_0→1 and F_1→0 of any shape, in their units."""
    return (-(1.0 - a) * a * f01 + a * a * f10,
            (1.0 - a) ** 2 * f01 - a * (1.0 - a) * f10)
