"""
Adam (Kingma & Ba 2015) on one tensor, for the optimisers that run inside a node.

The update is the one `torch.optim.Adam` makes with its defaults on a CPU tensor, operation
for operation, so both give the same numbers. It exists because constructing a
`torch.optim.Optimizer` the first time imports ``torch._dynamo`` (about 800 modules and 90 MB):
a process's first registration took about 40 times as long as the next, which stalled a
node's first tracked frame.
"""

import torch


class TensorAdam:
    """Adam's moments and step count for one tensor, updated in place by `step`."""

    def __init__(self, learning_rate: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        """Use step size ``learning_rate``, moment decays ``betas`` and denominator ``eps``."""
        self.learning_rate, self.betas, self.eps = learning_rate, betas, eps
        self.steps = 0
        self._mean: torch.Tensor | None = None  # first moment, the tensor's shape
        self._square: torch.Tensor | None = None  # second moment

    @torch.no_grad()
    def step(self, value: torch.Tensor, grad: torch.Tensor) -> None:
        """Move ``value`` in place one Adam step against ``grad`` (its shape)."""
        beta1, beta2 = self.betas
        if self._mean is None or self._square is None:
            self._mean, self._square = torch.zeros_like(value), torch.zeros_like(value)
        self.steps += 1
        self._mean.lerp_(grad, 1 - beta1)
        self._square.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = self.learning_rate / (1 - beta1 ** self.steps)
        denominator = (self._square.sqrt() / (1 - beta2 ** self.steps) ** 0.5).add_(self.eps)
        value.addcdiv_(self._mean, denominator, value=-step_size)
