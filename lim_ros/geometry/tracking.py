"""
Vertex tracking through canonical surface coordinates, and the tracked mesh it produces.

Convention: points are in the models' unit cube; a *correspondence field* at one instant maps
points (N, 3) to their SDF (N,) (negative inside) and their canonical position (N, 3), where
the same material is at the track's reference time. A vertex anchored with canonical position
c is found at time t where the field's canonical position equals c on its zero level set: each
`track_step` minimises, per vertex,

    ||canonical_t(x) - c||^2 + sdf_weight^2 * sdf_t(x)^2

by damped Gauss-Newton (Levenberg-Marquardt) from a start position, with the field's
Jacobians from autograd (three backward passes for the canonical rows, one for the SDF).
Steps are capped at ``max_step`` so a vertex never jumps across thin parts. The start is
the vertex's previous position (a local search: small time steps only), or the surface sample
at t whose canonical position is nearest (`canonical_search`: a global search, as the paper's
nearest neighbour on canonical coordinates); `best_step` refines several starts and keeps,
per vertex, the one with the lowest residual.

A `TrackedMesh` is one instant of a track: the anchor's UV atlas (faces, UVs, texture) with its
vertices moved to that instant; `lim_ros.engine.tracking` makes them.
"""

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from io import BytesIO

from lim_ros.errors import check_shape, ConfigError, ShapeError
from lim_ros.geometry.uv_atlas import UVAtlas
import numpy as np
import torch

# points (N, 3) → (sdf (N,), canonical (N, 3)); differentiable in the points
CorrespondenceField = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class TrackerConfig:
    """How vertices are moved and when a track is given up (unit-cube lengths)."""

    iterations: int = 6  # Gauss-Newton steps per update
    sdf_weight: float = 1.0  # weight of the zero-level-set residual
    damping: float = 1e-3  # Levenberg-Marquardt damping, relative to the normal matrix
    max_step: float = 0.05  # largest move of one vertex per Gauss-Newton step
    reanchor_error: float = 0.03  # re-anchor when the mean residual passes this
    lost_fraction: float = 0.1  # ... or when this fraction of vertices is lost
    lost_residual: float = 0.1  # a vertex is lost past this residual

    def __post_init__(self) -> None:
        """Validate every field; raise ConfigError naming the first bad one."""
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int) \
                or self.iterations < 1:
            raise ConfigError(f'iterations: expected an integer >= 1, got {self.iterations!r}')
        for name in ('sdf_weight', 'damping', 'max_step', 'reanchor_error', 'lost_residual'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 < value < float('inf'):
                raise ConfigError(f'{name}: expected a positive finite number, got {value!r}')
        if not isinstance(self.lost_fraction, (int, float)) or not 0.0 < self.lost_fraction <= 1:
            raise ConfigError(f'lost_fraction: expected a number in (0, 1], '
                              f'got {self.lost_fraction!r}')


@dataclass(frozen=True)
class TrackStep:
    """Vertices moved to one instant, with their residuals (unit cube)."""

    positions: torch.Tensor  # (N, 3)
    residual: torch.Tensor  # (N,) ||canonical_t(x) - c||, or a registration's rigidity misfit
    sdf: torch.Tensor  # (N,) field SDF at the positions

    @property
    def error(self) -> float:
        """Return the mean of sqrt(residual^2 + sdf^2) over the vertices, unit-cube length."""
        return float(torch.sqrt(self.residual ** 2 + self.sdf ** 2).mean())

    def lost(self, config: TrackerConfig) -> float:
        """Return the fraction of vertices whose residual passes ``config.lost_residual``."""
        residual = torch.sqrt(self.residual ** 2 + self.sdf ** 2)
        return float((residual > config.lost_residual).float().mean())

    def needs_reanchor(self, config: TrackerConfig) -> bool:
        """Return whether the track should restart: error or lost vertices past the limits."""
        return self.error > config.reanchor_error or self.lost(config) > config.lost_fraction


@dataclass(frozen=True)
class TrackAnchor:
    """What a track keeps fixed: faces, UVs, texture, and each vertex's canonical position."""

    track_id: int
    stamp_ns: int  # where the track started
    atlas: UVAtlas  # V' atlas vertices over V mesh vertices
    vertices: torch.Tensor  # (V', 3) float32 atlas vertices at the anchor, metres (CPU)
    texture: np.ndarray  # (S, S, 3) uint8 RGB, row 0 at the top
    canonical: torch.Tensor  # (V, 3) decoded canonical positions, unit cube, engine device

    @cached_property
    def texture_png(self) -> bytes:
        """Return the texture encoded as PNG (once per anchor)."""
        from PIL import Image

        out = BytesIO()
        Image.fromarray(self.texture).save(out, format='PNG')
        return out.getvalue()


@dataclass(frozen=True)
class TrackedMesh:
    """The tracked mesh at one stamp: atlas vertices moved there (volume frame, metres)."""

    stamp_ns: int
    anchor: TrackAnchor
    vertices: torch.Tensor  # (V', 3) float32, metres
    error: float  # mean tracking residual, metres
    new_track: bool  # whether this stamp started the track

    @property
    def faces(self) -> torch.Tensor:
        """Return the track's triangles, (F, 3) int64 indices into the V' vertices."""
        return self.anchor.atlas.faces

    @property
    def uvs(self) -> torch.Tensor:
        """Return the track's UVs (V', 2) in [0, 1] (v up)."""
        return self.anchor.atlas.uvs


def check_points(name: str, points: object) -> torch.Tensor:
    """Return ``points`` if a non-empty finite floating (N, 3) tensor; else raise ShapeError."""
    if not isinstance(points, torch.Tensor) or not points.is_floating_point():
        got = points.dtype if isinstance(points, torch.Tensor) else type(points).__name__
        raise ShapeError(f'{name}: expected a floating-point torch.Tensor, got {got}')
    check_shape(name, tuple(points.shape), (None, 3))
    if points.shape[0] == 0 or not bool(torch.isfinite(points).all()):
        raise ShapeError(f'{name}: expected a non-empty finite (N, 3) tensor')
    return points


def _evaluate(field: CorrespondenceField, points: torch.Tensor
              ) -> tuple[torch.Tensor, torch.Tensor]:
    sdf, canonical = field(points)
    n = points.shape[0]
    if tuple(sdf.shape) != (n,) or tuple(canonical.shape) != (n, 3):
        raise ShapeError(f'field: expected outputs of shapes ({n},) and ({n}, 3), got '
                         f'{tuple(sdf.shape)} and {tuple(canonical.shape)}')
    return sdf, canonical


def field_jacobian(field: CorrespondenceField, points: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """
    Return the residual values (N, 4) and Jacobians (N, 4, 3) of [canonical; sdf] at points.

    Rows 0-2 are the canonical position, row 3 the SDF; each point's outputs depend only on
    that point, so one backward pass per row gives every point's row at once. Any field of
    the same shapes works, e.g. a registration's (SDF, albedo) surface field.
    """
    with torch.enable_grad():
        x = points.detach().clone().requires_grad_(True)
        sdf, canonical = _evaluate(field, x)
        values = torch.cat([canonical, sdf[:, None]], dim=-1)
        rows = [torch.autograd.grad(values[:, i].sum(), x, retain_graph=i < 3)[0]
                for i in range(4)]
    return values.detach(), torch.stack(rows, dim=1)


def track_step(field: CorrespondenceField, anchor_canonical: torch.Tensor,
               start: torch.Tensor, config: TrackerConfig) -> TrackStep:
    """
    Move vertices from ``start`` (N, 3) to where ``field`` has canonical ``anchor_canonical``.

    See the module docstring; positions stay inside the unit cube.

    :raises ShapeError: if the inputs are not matching finite (N, 3) tensors, or the field
        returns the wrong shapes.
    """
    check_points('anchor_canonical', anchor_canonical)
    check_points('start', start)
    check_shape('start', tuple(start.shape), tuple(anchor_canonical.shape))
    weight = torch.tensor([1.0, 1.0, 1.0, config.sdf_weight], device=start.device)
    x = start.detach().float()
    target = torch.cat([anchor_canonical.float(), torch.zeros_like(x[:, :1])], dim=-1)
    for _ in range(config.iterations):
        values, jacobian = field_jacobian(field, x)
        r = (values - target) * weight  # (N, 4)
        j = jacobian * weight[:, None]  # (N, 4, 3)
        normal = j.transpose(1, 2) @ j  # (N, 3, 3)
        scale = normal.diagonal(dim1=1, dim2=2).mean(dim=-1).clamp(min=1e-8)
        damped = normal + config.damping * scale[:, None, None] * torch.eye(3, device=x.device)
        delta = -torch.linalg.solve(damped, (j.transpose(1, 2) @ r[..., None]))[..., 0]
        length = delta.norm(dim=-1, keepdim=True)
        delta = delta * (config.max_step / length.clamp(min=config.max_step))
        x = (x + delta).clamp(-1.0, 1.0)
    with torch.no_grad():
        sdf, canonical = _evaluate(field, x)
    return TrackStep(x, (canonical - anchor_canonical).norm(dim=-1), sdf.detach())


def best_step(field: CorrespondenceField, anchor_canonical: torch.Tensor,
              starts: list[torch.Tensor], config: TrackerConfig) -> TrackStep:
    """Run `track_step` from each of ``starts`` (each (N, 3)); keep each vertex's best result."""
    steps = [track_step(field, anchor_canonical, start, config) for start in starts]
    total = torch.stack([torch.sqrt(s.residual ** 2 + s.sdf ** 2) for s in steps])  # (S, N)
    best = total.argmin(dim=0)
    pick = torch.arange(best.shape[0], device=best.device)

    def gather(name: str) -> torch.Tensor:
        return torch.stack([getattr(s, name) for s in steps])[best, pick]

    return TrackStep(gather('positions'), gather('residual'), gather('sdf'))


def canonical_search(field: CorrespondenceField, anchor_canonical: torch.Tensor,
                     surface: torch.Tensor) -> torch.Tensor:
    """
    Return, per anchor vertex, the point of ``surface`` (M, 3) with the nearest canonical.

    ``surface`` holds samples of the surface at the field's instant (e.g. its marching-cubes
    vertices); the result (N, 3) starts `track_step`.

    :raises ShapeError: on inputs that are not non-empty finite (N, 3) tensors.
    """
    from scipy.spatial import cKDTree

    check_points('anchor_canonical', anchor_canonical)
    check_points('surface', surface)
    with torch.no_grad():
        canonical = _evaluate(field, surface)[1]
    _, index = cKDTree(canonical.detach().cpu().double().numpy()).query(
        anchor_canonical.detach().cpu().double().numpy())
    return surface[torch.from_numpy(index).to(surface.device)]


def nearest_neighbour_step(previous: torch.Tensor, surface: torch.Tensor) -> torch.Tensor:
    """
    Return, for each point of ``previous`` (N, 3), its nearest point of ``surface`` (M, 3).

    The baseline tracker: a vertex follows the nearest vertex of the next frame's mesh.
    """
    from scipy.spatial import cKDTree

    check_points('previous', previous)
    check_points('surface', surface)
    _, index = cKDTree(surface.detach().cpu().numpy()).query(previous.detach().cpu().numpy())
    return surface[torch.from_numpy(index).to(surface.device)]


def extrapolate(positions: torch.Tensor, velocity: torch.Tensor | None,
                seconds: float) -> torch.Tensor:
    """
    Return ``positions`` (N, 3) carried ``seconds`` further at ``velocity`` (N, 3, per second).

    The start of a local search under constant velocity: where the vertices would be if they
    kept the speed of their last step. Kept in the unit cube; ``velocity`` None: no motion.
    """
    if velocity is None:
        return positions
    return (positions + seconds * velocity).clamp(-1.0, 1.0)
