"""
The field decoder: triplane features at a point → SDF, albedo and canonical position.

Convention: points are in the unit cube of the reconstruction volume; the SDF is in the same
units (negative inside); albedo is RGB in [0, 1]; the canonical position is where the same
material point is at the reference time of the track (for a single instant: the point itself),
predicted as an offset from the query point.

With view evidence (`lim_ros.models.view_evidence`), the planes carry 6·K channels after the C
learned ones, and a second MLP, given the same inputs plus the evidence read at the point,
adds a correction to the SDF and albedo logits; its last layer starts at zero, so a decoder
that gains evidence starts out exactly as it was.
"""

from dataclasses import dataclass

from lim_ros.models.triplane import sample_planes
from lim_ros.models.view_evidence import EVIDENCE_STATS, read_evidence
import torch
from torch import nn


@dataclass(frozen=True)
class FieldOutput:
    """Decoded fields at N points of B samples."""

    sdf: torch.Tensor  # (B, N)
    albedo: torch.Tensor  # (B, N, 3)
    canonical: torch.Tensor  # (B, N, 3)


def hidden_layers(inputs: int, hidden: int, layers: int) -> nn.Sequential:
    """Return ``layers`` linear layers of width ``hidden``, each followed by SiLU."""
    widths = [inputs] + [hidden] * layers
    body: list[nn.Module] = []
    for a, b in zip(widths[:-1], widths[1:]):
        body += [nn.Linear(a, b), nn.SiLU()]
    return nn.Sequential(*body)


class EvidenceCorrection(nn.Module):
    """(features 3C + point 3 + evidence 3·6) → corrections of the SDF and albedo logits (4)."""

    def __init__(self, plane_channels: int, hidden: int, layers: int) -> None:
        """Create the MLP; its output layer starts at zero."""
        super().__init__()
        self.body = hidden_layers(3 * plane_channels + 3 + 3 * EVIDENCE_STATS, hidden, layers)
        self.head = nn.Linear(hidden, 4)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, features: torch.Tensor, evidence: torch.Tensor) -> torch.Tensor:
        """Return the corrections (B, N, 4)."""
        return self.head(self.body(torch.cat([features, evidence], dim=-1)))


class TriplaneDecoder(nn.Module):
    """MLP from plane features (3C) and the point's coordinates (3) to 1 + 3 + 3 outputs."""

    def __init__(self, plane_channels: int, hidden: int, layers: int,
                 evidence: bool = False) -> None:
        """Create ``layers`` hidden layers of width ``hidden`` (and the correction MLP)."""
        super().__init__()
        self.plane_channels = plane_channels
        self.body = hidden_layers(3 * plane_channels + 3, hidden, layers)
        self.head = nn.Linear(hidden, 7)
        self.correction = EvidenceCorrection(plane_channels, hidden, layers) if evidence else None

    def forward(self, planes: torch.Tensor, points: torch.Tensor) -> FieldOutput:
        """Decode points (B, N, 3) from planes (B, 3, C [+ 6·K], R, R)."""
        c = self.plane_channels
        features = torch.cat([sample_planes(planes[:, :, :c], points),
                              points.to(planes.dtype)], dim=-1)
        out = self.head(self.body(features))
        if self.correction is not None:
            delta = self.correction(features, read_evidence(planes[:, :, c:], points))
            out = torch.cat([out[..., :4] + delta, out[..., 4:]], dim=-1)
        return FieldOutput(
            sdf=out[..., 0],
            albedo=torch.sigmoid(out[..., 1:4]),
            canonical=points + out[..., 4:7],
        )
