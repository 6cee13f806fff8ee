"""
Image-space interpolation: optical flow between two keyframes' views, warped to time α.

The LIM paper compares against FILM, a learned frame interpolator; this is the same kind of
baseline with a flow method we can install (OpenCV's DIS optical flow). For each view, the
flows F_0→1 and F_1→0 between the keyframes' images give the flows from the intermediate
frame back to both keyframes (`flows_to_keyframes`); the frame at α blends both keyframes
backward-warped along them. The warped views then go to the LRM like real camera images.
"""

import cv2
from lim_ros.interp.linear_motion import flows_to_keyframes
import numpy as np
import torch


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Return ``image`` (H, W, 3) sampled at pixel + ``flow`` (H, W, 2), white outside."""
    h, w = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, xs + flow[..., 0], ys + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_CONSTANT, borderValue=(1.0, 1.0, 1.0))


class FlowInterpolator:
    """Interpolates multi-view frames with DIS optical flow; see the module docstring."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM) -> None:
        """Create the DIS flow estimator (``preset``: OpenCV's speed / quality preset)."""
        self.flow = cv2.DISOpticalFlow_create(preset)  # type: ignore[attr-defined]  # not in stubs

    def __call__(self, rgb0: torch.Tensor, rgb1: torch.Tensor, alpha: float) -> torch.Tensor:
        """Return the views at α from views (V, 3, H, W) in [0, 1] at the two keyframes."""
        if rgb0.shape != rgb1.shape or rgb0.dim() != 4 or rgb0.shape[1] != 3:
            raise ValueError(f'rgb0, rgb1: expected two (V, 3, H, W) tensors, got '
                             f'{tuple(rgb0.shape)} and {tuple(rgb1.shape)}')
        a = float(alpha)
        frames = []
        for view0, view1 in zip(rgb0, rgb1):
            i0 = np.ascontiguousarray(view0.permute(1, 2, 0).cpu().numpy(), dtype=np.float32)
            i1 = np.ascontiguousarray(view1.permute(1, 2, 0).cpu().numpy(), dtype=np.float32)
            g0, g1 = (_grey((255.0 * i).round().astype(np.uint8)) for i in (i0, i1))
            f01 = self.flow.calc(g0, g1, None)
            f10 = self.flow.calc(g1, g0, None)
            f_a0, f_a1 = flows_to_keyframes(f01, f10, a)
            frame = (1.0 - a) * _warp(i0, f_a0) + a * _warp(i1, f_a1)
            frames.append(torch.from_numpy(frame).permute(2, 0, 1))
        return torch.stack(frames).clamp(0.0, 1.0).to(rgb0)
