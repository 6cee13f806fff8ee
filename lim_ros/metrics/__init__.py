"""
Evaluation metrics for 3D reconstruction: geometry, rendered images and correspondences.

All functions take torch tensors on any device, validate them (raising
``lim_ros.errors.ShapeError`` naming the argument) and return Python floats or small frozen
dataclasses.
"""

from lim_ros.metrics.correspondence import (
    bbox_diagonal_of,
    correspondence_error,
    correspondence_errors,
)
from lim_ros.metrics.geometry import (
    chamfer,
    ChamferResult,
    f_score,
    FScoreResult,
    mean_sign_iou,
    sample_mesh_surface,
    volumetric_iou,
)
from lim_ros.metrics.image import gaussian_window, psnr, ssim

__all__ = [
    'bbox_diagonal_of',
    'chamfer',
    'ChamferResult',
    'correspondence_error',
    'correspondence_errors',
    'f_score',
    'FScoreResult',
    'gaussian_window',
    'mean_sign_iou',
    'psnr',
    'sample_mesh_surface',
    'ssim',
    'volumetric_iou',
]
