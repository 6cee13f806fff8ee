"""
Vertex tracking by non-rigid registration onto the decoded surface.

The anchor mesh is bent as rigidly as possible onto the surface at t, each vertex keeping its
anchor colour.

Convention: points are in the models' unit cube; a *surface field* at one instant maps points
(N, 3) to their SDF (N,) (negative inside) and albedo (N, 3) in [0, 1]. One `register_step`
moves the vertices x (N, 3) of a track from a start to the minimum of

    E(x) = sum_i sdf_t(x_i)^2 + colour_weight * sum_i ||albedo_t(x_i) - a_i||^2
           + rigidity * sum_(i,j) ||(x_i - x_j) - R_i (p_i - p_j)||^2

over the mesh edges (i, j) in both directions, with p (N, 3) the anchor positions, a (N, 3)
the anchor albedo and R_i vertex i's rotation. With ``edge_tolerance`` σ > 0 (default 0:
off) edges give way: each edge's term is weighted by w_ij = σ_ij² / (σ_ij² + m_ij²)
(Geman-McClure on its misfit m_ij, σ_ij = σ times its rest length, updated with the
rotations), never above its weight at the previous step, so an edge that gave way stays
loose for the rest of the track. Parts that touch at the
anchor are joined by the anchor mesh's triangles; when they move apart, the edges between
them stretch far past what a rotation explains and stop dragging one part onto the other.

First the whole mesh is moved rigidly to the minimum of the first two terms
(`rigid_alignment`: Gauss-Newton on a rotation about the vertices' centroid and a
translation, point-to-plane as in ICP), which takes up the motion shared by all parts; then,
as in as-rigid-as-possible surface modelling (Sorkine & Alexa 2007), the rotations (closed
form: SVD of each vertex's edge covariance) and the positions (Adam steps, `TensorAdam`, the
field's gradients from autograd) are updated in turn. Unlike `lim_ros.geometry.tracking`, nothing
here needs a canonical head that carries motion; the registration is local, so updates go in
short time steps.
"""

from collections.abc import Callable
from dataclasses import dataclass

from lim_ros.errors import check_shape, ConfigError, ShapeError
from lim_ros.geometry.adam import TensorAdam
from lim_ros.geometry.tracking import check_points, field_jacobian, TrackStep
from lim_ros.world.rotations import axis_angle_to_matrix
import torch

# points (N, 3) → (sdf (N,), albedo (N, 3)); differentiable in the points
SurfaceField = Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class RegistrationConfig:
    """Weights and optimiser of one registration update (unit-cube lengths)."""

    rounds: int = 5  # rotation updates per registration
    steps: int = 10  # Adam steps on the positions per round
    learning_rate: float = 0.006  # Adam step size, unit-cube length
    rigidity: float = 1.0  # weight of the as-rigid-as-possible term
    colour_weight: float = 0.1  # weight of the anchor-colour term
    rigid_steps: int = 8  # Levenberg-Marquardt steps of the rigid alignment first; 0: none
    edge_tolerance: float = 0.0  # σ of the edges' weights, in rest lengths; 0: they never give

    def __post_init__(self) -> None:
        """Validate every field; raise ConfigError naming the first bad one."""
        for name, low in (('rounds', 1), ('steps', 1), ('rigid_steps', 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ConfigError(f'{name}: expected an integer >= {low}, got {value!r}')
        for name in ('learning_rate', 'rigidity'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 < value < float('inf'):
                raise ConfigError(f'{name}: expected a positive finite number, got {value!r}')
        for name in ('colour_weight', 'edge_tolerance'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value < float('inf'):
                raise ConfigError(f'{name}: expected a finite number >= 0, got {value!r}')


@dataclass(frozen=True)
class RegistrationStep(TrackStep):
    """A `register_step`'s result, with the edges' weights that the next step starts from."""

    edge_weights: torch.Tensor  # (E,) in [0, 1]: each edge's weight in the rigidity term


def mesh_edges(faces: torch.Tensor) -> torch.Tensor:
    """Return the directed edges (E, 2) of triangles ``faces`` (F, 3): each edge both ways."""
    check_shape('faces', tuple(faces.shape), (None, 3))
    pairs = torch.cat([faces[:, [0, 1]], faces[:, [1, 2]], faces[:, [2, 0]]])
    undirected = torch.unique(torch.sort(pairs, dim=1).values, dim=0)
    return torch.cat([undirected, undirected.flip(1)])


def rigid_rotations(rest: torch.Tensor, positions: torch.Tensor,
                    edges: torch.Tensor) -> torch.Tensor:
    """
    Return per-vertex rotations (N, 3, 3) best mapping rest edges onto current ones.

    R_i = argmin_R sum_j ||(x_i - x_j) - R (p_i - p_j)||^2 over i's edges: U V^T from the SVD
    of the covariance, with the sign flipped on the last axis where that would reflect.
    """
    source, target = edges[:, 0], edges[:, 1]
    rest_edge = rest[source] - rest[target]
    edge = positions[source] - positions[target]
    covariance = torch.zeros(rest.shape[0], 3, 3, dtype=rest.dtype, device=rest.device)
    covariance.index_add_(0, source, edge[:, :, None] * rest_edge[:, None, :])
    u, _, vh = torch.linalg.svd(covariance)
    sign = torch.ones(rest.shape[0], 3, dtype=rest.dtype, device=rest.device)
    sign[:, 2] = torch.det(u @ vh)
    return u @ torch.diag_embed(sign) @ vh


def _turned_rest_edges(rest: torch.Tensor, positions: torch.Tensor,
                       edges: torch.Tensor) -> torch.Tensor:
    """Return R_i (p_i - p_j) (E, 3) for every edge (i, j), R_i fitted at ``positions``."""
    source, target = edges[:, 0], edges[:, 1]
    rotations = rigid_rotations(rest, positions, edges)
    return (rotations[source] @ (rest[source] - rest[target])[..., None])[..., 0]


def _rigidity_residual(rest: torch.Tensor, positions: torch.Tensor,
                       edges: torch.Tensor) -> torch.Tensor:
    """Return each vertex's RMS edge misfit (N,) after its best rotation."""
    source, target = edges[:, 0], edges[:, 1]
    turned = _turned_rest_edges(rest, positions, edges)
    misfit = ((positions[source] - positions[target] - turned) ** 2).sum(dim=-1)
    total = torch.zeros(rest.shape[0], dtype=rest.dtype, device=rest.device)
    count = torch.zeros_like(total)
    total.index_add_(0, source, misfit)
    count.index_add_(0, source, torch.ones_like(misfit))
    return torch.sqrt(total / count.clamp(min=1.0))


def _fit_energy(field: SurfaceField, albedo: torch.Tensor, points: torch.Tensor,
                colour_weight: float) -> torch.Tensor:
    """Return sum_i sdf(x_i)^2 + colour_weight sum_i ||albedo(x_i) - a_i||^2 (a scalar)."""
    sdf, colour = field(points)
    return (sdf ** 2).sum() + colour_weight * ((colour - albedo) ** 2).sum()


def rigid_alignment(field: SurfaceField, albedo: torch.Tensor, start: torch.Tensor,
                    colour_weight: float, steps: int) -> torch.Tensor:
    """
    Return ``start`` (N, 3) moved rigidly to fit ``field``'s surface and the colours ``albedo``.

    Levenberg-Marquardt on the rotation ω (axis-angle about the points' centroid c) and the
    translation τ: with y_i = x_i - c, the residuals sdf(x_i) and sqrt(colour_weight)
    (albedo(x_i) - a_i) change by J (ω, τ), J's rows [y_i × ∇r, ∇r]; a step that does not
    lower the energy is refused and the damping raised tenfold.
    """
    x = start.detach().float()
    damping = 1e-3
    weight = torch.tensor([colour_weight ** 0.5] * 3 + [1.0], device=x.device)
    target = torch.cat([albedo.float(), torch.zeros_like(x[:, :1])], dim=-1)  # (N, 4)
    for _ in range(steps):
        values, gradients = field_jacobian(field, x)  # rows: albedo (3), then the SDF
        residual = ((values - target) * weight).reshape(-1)  # (4N,)
        gradients = gradients * weight[:, None]  # (N, 4, 3)
        centre = x.mean(dim=0)
        y = x - centre
        turning = torch.cross(y[:, None].expand_as(gradients), gradients, dim=-1)
        jacobian = torch.cat([turning, gradients], dim=-1).reshape(-1, 6)  # (4N, 6)
        normal = jacobian.T @ jacobian
        rhs = -jacobian.T @ residual
        energy = float((residual ** 2).sum())
        # a floor on the scaling keeps directions the residuals do not see (the spin of a
        # sphere on shape alone) from taking arbitrary steps
        scaling = normal.diagonal() + 1e-6 * float(normal.diagonal().max()) + 1e-12
        while damping < 1e6:
            damped = normal + damping * torch.diag(scaling)
            delta = torch.linalg.solve(damped.double(), rhs.double()).float()
            moved = centre + delta[3:] + y @ axis_angle_to_matrix(delta[:3]).T
            with torch.no_grad():
                if float(_fit_energy(field, albedo, moved, colour_weight)) < energy:
                    x, damping = moved.clamp(-1.0, 1.0), damping * 0.1
                    break
            damping *= 10.0
        else:
            break
    return x


def _check_edge_weights(edge_weights: torch.Tensor | None, count: int,
                        device: torch.device) -> torch.Tensor:
    """Return ``edge_weights`` (E,) checked to lie in [0, 1], or ones for a new track."""
    if edge_weights is None:
        return torch.ones(count, device=device)
    check_shape('edge_weights', tuple(edge_weights.shape), (count,))
    if not bool(((edge_weights >= 0.0) & (edge_weights <= 1.0)).all()):
        raise ShapeError('edge_weights: expected weights in [0, 1]')
    return edge_weights.float()


def register_step(field: SurfaceField, rest: torch.Tensor, albedo: torch.Tensor,
                  edges: torch.Tensor, start: torch.Tensor, config: RegistrationConfig,
                  edge_weights: torch.Tensor | None = None) -> RegistrationStep:
    """
    Move the anchor mesh from ``start`` (N, 3) onto ``field``'s surface; see the module.

    ``rest`` (N, 3) and ``albedo`` (N, 3) are the vertices' anchor positions and colours,
    ``edges`` (E, 2) their mesh edges (`mesh_edges`), ``edge_weights`` (E,) the previous
    step's `RegistrationStep.edge_weights` (None: a new track, every weight 1). The step's
    residual is each vertex's rigidity misfit over all its edges (`TrackStep.residual`: torn
    edges count), its SDF the field's at the result.

    :raises ShapeError: on tensors of the wrong shapes, non-finite points, edge indices out
        of range or edge weights outside [0, 1].
    """
    n = check_points('rest', rest).shape[0]
    for name, value in (('albedo', albedo), ('start', start)):
        check_shape(name, tuple(check_points(name, value).shape), (n, 3))
    check_shape('edges', tuple(edges.shape), (None, 2))
    if edges.numel() and (int(edges.min()) < 0 or int(edges.max()) >= n):
        raise ShapeError(f'edges: expected indices in [0, {n})')
    carried = _check_edge_weights(edge_weights, edges.shape[0], rest.device)
    rest, albedo = rest.float(), albedo.float()
    aligned = rigid_alignment(field, albedo, start, config.colour_weight, config.rigid_steps)
    x = aligned.clone().requires_grad_(True)
    optimiser = TensorAdam(config.learning_rate)
    source, target = edges[:, 0], edges[:, 1]
    tolerance = (config.edge_tolerance * (rest[source] - rest[target]).norm(dim=-1)) ** 2
    weights = carried
    for _ in range(config.rounds):
        turned = _turned_rest_edges(rest, x.detach(), edges)
        if config.edge_tolerance:
            misfit = ((x.detach()[source] - x.detach()[target] - turned) ** 2).sum(dim=-1)
            weights = torch.minimum(carried, tolerance / (tolerance + misfit).clamp(min=1e-12))
        for _ in range(config.steps):
            with torch.enable_grad():  # callers may run under no_grad
                energy = _fit_energy(field, albedo, x, config.colour_weight) + config.rigidity \
                    * (weights[:, None] * (x[source] - x[target] - turned) ** 2).sum()
                gradient, = torch.autograd.grad(energy, x)
            optimiser.step(x, gradient)
            with torch.no_grad():
                x.clamp_(-1.0, 1.0)
    positions = x.detach()
    with torch.no_grad():
        sdf = field(positions)[0]
    return RegistrationStep(positions, _rigidity_residual(rest, positions, edges), sdf.float(),
                            weights)
