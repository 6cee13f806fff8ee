"""
Procedural colour patterns defined in each part's rest frame, so texture moves with the surface.

A part's colour at rest point p is ``lerp(base, accent, v(p))`` with v in [0, 1] from the
part's pattern: plain (v = 0), stripes across a direction, a 3D checker, or smooth noise (a
sum of random plane waves, thresholded softly). Frequencies are in cycles per metre.
"""

from dataclasses import dataclass
from enum import IntEnum

import torch

N_WAVES = 4


class Pattern(IntEnum):
    """Kinds of colour pattern."""

    PLAIN = 0
    STRIPES = 1
    CHECKER = 2
    NOISE = 3


@dataclass(frozen=True)
class PartColours:
    """Colour description of P parts."""

    base: torch.Tensor  # (P, 3) RGB in [0, 1]
    accent: torch.Tensor  # (P, 3) RGB in [0, 1]
    pattern: torch.Tensor  # (P,) Pattern values
    frequency: torch.Tensor  # (P,) cycles per metre
    directions: torch.Tensor  # (P, N_WAVES, 3) unit vectors; row 0 is the stripe direction
    phases: torch.Tensor  # (P, N_WAVES) radians


def pattern_value(rest: torch.Tensor, part: torch.Tensor, colours: PartColours) -> torch.Tensor:
    """Pattern weight v in [0, 1] for rest-frame points (N, 3) of parts ``part`` (N,)."""
    freq = colours.frequency[part][:, None]
    dirs = colours.directions[part]  # (N, W, 3)
    waves = torch.sin(
        2.0 * torch.pi * freq * torch.einsum('nwc,nc->nw', dirs, rest) + colours.phases[part]
    )
    stripes = (waves[:, 0] > 0).to(rest.dtype)
    cells = torch.floor(freq * rest).sum(dim=-1)
    checker = torch.remainder(cells, 2.0)
    noise = torch.sigmoid(6.0 * waves.mean(dim=-1) * 2.0)
    kind = colours.pattern[part]
    value = torch.zeros_like(stripes)
    value = torch.where(kind == Pattern.STRIPES, stripes, value)
    value = torch.where(kind == Pattern.CHECKER, checker, value)
    return torch.where(kind == Pattern.NOISE, noise, value)


def part_colour(rest: torch.Tensor, part: torch.Tensor, colours: PartColours) -> torch.Tensor:
    """RGB (N, 3) of rest-frame points (N, 3) belonging to parts ``part`` (N,)."""
    v = pattern_value(rest, part, colours)[:, None]
    return (1.0 - v) * colours.base[part] + v * colours.accent[part]
