"""
Adam (Kingma & Ba 2015) on one tensor, for the optimisers that run inside a node.

The step is torch's own, `torch.optim.adam.adam` (the functional form that
`torch.optim.Adam` calls), so both give the same numbers; only the optimiser class is left
out. Constructing a process's first `torch.optim.Optimizer` imports ``torch._dynamo`` (about
800 modules and 90 MB): a process's first registration took about 40 times as long as the
next, which stalled a node's first tracked frame.
"""

import torch
from torch.optim.adam import adam


class TensorAdam:
    """Adam's moments and step count for one tensor, updated in place by `step`."""

    def __init__(self, learning_rate: float, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8) -> None:
        """Use step size ``learning_rate``, moment decays ``betas`` and denominator ``eps``."""
        self.learning_rate, self.betas, self.eps = learning_rate, betas, eps
        # first moment, second moment (the tensor's shape) and the step count (a scalar tensor)
        self._state: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @property
    def steps(self) -> int:
        """Return the number of steps taken."""
        return 0 if self._state is None else int(self._state[2])

    @torch.no_grad()
    def step(self, value: torch.Tensor, grad: torch.Tensor) -> None:
        """Move ``value`` in place one Adam step against ``grad`` (its shape)."""
        if self._state is None:
            self._state = (torch.zeros_like(value), torch.zeros_like(value), torch.tensor(0.0))
        mean, square, count = self._state
        adam([value], [grad], [mean], [square], [], [count], amsgrad=False,
             beta1=self.betas[0], beta2=self.betas[1], lr=self.learning_rate, weight_decay=0.0,
             eps=self.eps, maximize=False)
