"""
Non-rigid deformations of a part's rest frame, with exact inverses.

The forward map takes a rest point p to a deformed point q = wave(bend(twist(squash(p)))).
Each stage is invertible in closed form, so the canonical (rest) position of any deformed
point is exact. Per-part parameters at one instant are packed in a (P, 7) tensor with columns
`SQUASH` (log of the z stretch; x and y shrink by exp(-s/2), preserving volume), `TWIST`
(radians per metre about z), `BEND` (metres of sideways offset per metre² of z),
`BEND_ANGLE` (direction of the bend in the xy plane, radians), `WAVE_AMPLITUDE` (relative
radial bulge, |a| < 0.5), `WAVE_NUMBER` (radians per metre along z) and `WAVE_PHASE` (radians).
"""

import torch

SQUASH, TWIST, BEND, BEND_ANGLE, WAVE_AMPLITUDE, WAVE_NUMBER, WAVE_PHASE = range(7)
N_PARAMS = 7


def _rotate_xy(points: torch.Tensor, angle: torch.Tensor) -> torch.Tensor:
    c, s = torch.cos(angle), torch.sin(angle)
    x, y, z = points.unbind(-1)
    return torch.stack([c * x - s * y, s * x + c * y, z], dim=-1)


def _wave_factor(z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    amp, number, phase = (params[:, None, i] for i in (WAVE_AMPLITUDE, WAVE_NUMBER, WAVE_PHASE))
    return 1.0 + amp * torch.sin(number * z + phase)


def _bend_offset(z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    bend, angle = params[:, None, BEND], params[:, None, BEND_ANGLE]
    amount = bend * z**2
    return torch.stack([amount * torch.cos(angle), amount * torch.sin(angle), 0 * z], dim=-1)


def deform(rest: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Map rest points (P, N, 3) to deformed points (P, N, 3) with per-part params (P, 7)."""
    stretch = torch.exp(params[:, None, SQUASH, None])
    scale = torch.cat([stretch**-0.5, stretch**-0.5, stretch], dim=-1)
    q = rest * scale
    q = _rotate_xy(q, params[:, None, TWIST] * q[..., 2])
    q = q + _bend_offset(q[..., 2], params)
    factor = _wave_factor(q[..., 2], params)[..., None]
    return q * torch.cat([factor, factor, torch.ones_like(factor)], dim=-1)


def undeform(deformed: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
    """Map deformed points (P, N, 3) back to rest points (P, N, 3): the exact inverse of deform."""
    factor = _wave_factor(deformed[..., 2], params)[..., None]
    q = deformed / torch.cat([factor, factor, torch.ones_like(factor)], dim=-1)
    q = q - _bend_offset(q[..., 2], params)
    q = _rotate_xy(q, -params[:, None, TWIST] * q[..., 2])
    stretch = torch.exp(params[:, None, SQUASH, None])
    scale = torch.cat([stretch**-0.5, stretch**-0.5, stretch], dim=-1)
    return q / scale
