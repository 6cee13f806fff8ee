"""Tests for lim_ros.geometry.adam: torch.optim.Adam's numbers without torch.optim's import."""

import subprocess
import sys

from lim_ros.geometry.adam import TensorAdam
import torch


def rosenbrock(x: torch.Tensor) -> torch.Tensor:
    """Return the sum of Rosenbrock's function over the rows (N, 2): curved, badly scaled."""
    return ((1.0 - x[:, 0]) ** 2 + 100.0 * (x[:, 1] - x[:, 0] ** 2) ** 2).sum()


def test_steps_are_torch_adams_to_the_bit():
    start = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    reference = start.clone().requires_grad_(True)
    optimiser = torch.optim.Adam([reference], lr=0.01)
    mine, adam = start.clone().requires_grad_(True), TensorAdam(0.01)
    for _ in range(200):
        optimiser.zero_grad()
        rosenbrock(reference).backward()
        optimiser.step()
        gradient, = torch.autograd.grad(rosenbrock(mine), mine)
        adam.step(mine, gradient)
    assert adam.steps == 200
    assert torch.equal(mine, reference)
    assert float(rosenbrock(mine.detach())) < 0.5 * float(rosenbrock(start))


def test_registration_does_not_import_torch_dynamo():
    """A node's first registration used to stall 1 s importing torch._dynamo via torch.optim."""
    script = """
import sys
import torch
from lim_ros.geometry.registration import mesh_edges, register_step, RegistrationConfig
corners = torch.tensor([[1.0, 1.0, 1.0], [1.0, -1.0, -1.0], [-1.0, 1.0, -1.0], [-1.0, -1.0, 1.0]])
rest = 0.3 * corners / 3 ** 0.5  # a tetrahedron inscribed in the sphere
faces = torch.tensor([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])
def field(points):
    return points.norm(dim=-1) - 0.3, torch.zeros_like(points)
step = register_step(field, rest, torch.zeros(4, 3), mesh_edges(faces), rest + 0.05,
                     RegistrationConfig())
assert step.sdf.abs().max() < 0.01, step.sdf
print('torch._dynamo' in sys.modules)
"""
    completed = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                               timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().splitlines()[-1] == 'False'
