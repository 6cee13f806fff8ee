"""The check both trainers' ``init_checkpoint`` tests share."""

from collections.abc import Callable
import dataclasses
from pathlib import Path
from typing import Any

from lim_ros.errors import ConfigError
import pytest
import torch
from torch import nn


def check_init_checkpoint(train: Callable[[Any], dict], config: Callable[[Path], Any],
                          load: Callable[[Path], nn.Module], other_model: Any,
                          tmp_path: Path) -> None:
    """
    Assert that ``train`` starts from a trained checkpoint and refuses one of another model.

    ``config(out)`` is a short run writing to ``out``; ``other_model`` a model config that the
    trained checkpoint does not hold.
    """
    train(config(tmp_path / 'a'))
    start = tmp_path / 'a' / 'best.safetensors'
    tuned = dataclasses.replace(config(tmp_path / 'b'), lr=0.0, init_checkpoint=str(start))
    train(tuned)  # a zero learning rate keeps the starting weights
    a, b = load(start).state_dict(), load(tmp_path / 'b' / 'best.safetensors').state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = dataclasses.replace(tuned, out_dir=str(tmp_path / 'c'), model=other_model)
    with pytest.raises(ConfigError, match='init_checkpoint: .* different model config'):
        train(other)
