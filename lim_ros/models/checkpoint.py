"""
Checkpoints and resumable training state as safetensors files that carry their config.

A checkpoint (``save_checkpoint``) holds ``model.state_dict()`` under the state dict's own
names, and in the safetensors header metadata (a str -> str map):

- ``format``: ``'lim_ros/1'``; ``kind``: the model it belongs to (``'lrm'``, ``'lim'``, ...);
- ``config``: JSON of ``dataclasses.asdict(config)``; ``config_class``: its qualified name;
- ``extra``: JSON object of the caller's extra values (str, int or float).

A training state (``save_training_state``) has ``format`` ``'lim_ros-training/1'``, the same
``kind``, ``config`` and ``config_class``, and

- tensors ``model.<name>`` (weights), ``optimizer.state.<param index>.<name>`` (optimizer
  state; Python scalars such as an int ``step`` become 0-d tensors), tensor-valued
  hyper-parameters as ``optimizer.param_groups.<group>.<name>``, and ``rng_state`` if given;
- metadata ``optimizer`` (JSON: each param group's other hyper-parameters and the keys of
  the scalar entries), ``step`` (JSON int) and ``scaler`` (JSON of
  ``GradScaler.state_dict()``, or null).

Nothing is pickled: loading parses JSON and raw tensor bytes only. Files are written to a
temporary file in the same directory and moved into place with ``os.replace``, so readers see
the old file or the new one, never a partial one.

The file runs to about 300 lines because checkpoints and training states share the header,
the atomic write and the rebuilding of nested config dataclasses from JSON.
"""

from collections.abc import Callable, Mapping
import dataclasses
import json
import os
from pathlib import Path
from typing import Any, TypeVar
import uuid

from lim_ros.config_io import from_dict
from lim_ros.errors import CheckpointError, ConfigError
from safetensors import safe_open, SafetensorError
from safetensors.torch import save_file
import torch
from torch import nn

FORMAT = 'lim_ros/1'
TRAINING_FORMAT = 'lim_ros-training/1'
_SHOWN = 5  # keys listed per category in a weight mismatch error

C = TypeVar('C')
M = TypeVar('M', bound=nn.Module)
PathLike = str | os.PathLike


def save_checkpoint(path: PathLike, model: nn.Module, config: Any, *, kind: str,
                    extra: Mapping[str, str | int | float] | None = None) -> None:
    """Write ``model``'s weights, ``config`` and ``extra`` to ``path`` atomically."""
    metadata = _header(config, kind, FORMAT)
    extra = dict(extra or {})
    for key, value in extra.items():
        if not isinstance(key, str) or not isinstance(value, (str, int, float)):
            raise TypeError(f'extra[{key!r}]: expected str, int or float, '
                            f'got {type(value).__name__}')
    metadata['extra'] = json.dumps(extra)
    _write(path, model.state_dict(), metadata)


def read_checkpoint(path: PathLike, config_cls: type[C], *, kind: str,
                    device: torch.device | str = 'cpu') -> tuple[C, dict[str, torch.Tensor], dict]:
    """Return the config, the weights (on ``device``) and the extra values stored at ``path``."""
    metadata, tensors = _read(path, FORMAT, kind)
    tensors = {k: v.to(device) for k, v in tensors.items()}
    return _config(path, metadata, config_cls), tensors, _json(path, metadata, 'extra')


def load_model(path: PathLike, model_factory: Callable[[C], M], config_cls: type[C], *,
               kind: str, device: torch.device | str = 'cpu') -> tuple[M, C, dict]:
    """Build ``model_factory(config)`` from the stored config, load its weights, move it."""
    config, tensors, extra = read_checkpoint(path, config_cls, kind=kind)
    model = model_factory(config)
    _load_weights(path, model, tensors)
    return model.to(device), config, extra


def save_training_state(path: PathLike, model: nn.Module, optimizer: torch.optim.Optimizer,
                        config: Any, *, kind: str, step: int,
                        rng_state: torch.Tensor | None = None,
                        scaler: torch.amp.GradScaler | None = None) -> None:
    """Write everything needed to resume training bit-identically to ``path`` atomically."""
    metadata = _header(config, kind, TRAINING_FORMAT)
    tensors = {f'model.{k}': v for k, v in model.state_dict().items()}
    opt = optimizer.state_dict()
    scalars = []  # keys of Python scalars; the 0-d tensor's dtype tells bool, int or float
    for index, state in opt['state'].items():
        for name, value in state.items():
            key = f'optimizer.state.{index}.{name}'
            if isinstance(value, (bool, int, float)):
                scalars.append(key)
                value = torch.tensor(value, dtype=torch.bool if isinstance(value, bool)
                                     else torch.int64 if isinstance(value, int)
                                     else torch.float64)
            tensors[key] = value
    groups = []
    for g, group in enumerate(opt['param_groups']):
        for name, value in group.items():
            if isinstance(value, torch.Tensor):
                tensors[f'optimizer.param_groups.{g}.{name}'] = value
        groups.append({k: v for k, v in group.items() if not isinstance(v, torch.Tensor)})
    metadata['optimizer'] = json.dumps({'param_groups': groups, 'scalars': scalars})
    metadata['step'] = json.dumps(int(step))
    metadata['scaler'] = json.dumps(None if scaler is None else scaler.state_dict())
    if rng_state is not None:
        tensors['rng_state'] = rng_state
    _write(path, tensors, metadata)


def load_training_state(path: PathLike, model: nn.Module, optimizer: torch.optim.Optimizer,
                        config_cls: type[C], *, kind: str,
                        scaler: torch.amp.GradScaler | None = None,
                        ) -> tuple[C, int, torch.Tensor | None]:
    """Restore ``model``, ``optimizer`` and ``scaler``; return the config, step and RNG state."""
    metadata, tensors = _read(path, TRAINING_FORMAT, kind)
    config = _config(path, metadata, config_cls)
    step = _json(path, metadata, 'step')
    if not isinstance(step, int):
        raise CheckpointError(f'{path}: metadata step: expected an int, found {step!r}')
    rng_state = tensors.pop('rng_state', None)
    weights = {k[len('model.'):]: v for k, v in tensors.items() if k.startswith('model.')}
    _load_weights(path, model, weights)
    try:
        stored = _json(path, metadata, 'optimizer')
        groups, scalars = stored['param_groups'], set(stored['scalars'])
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith('optimizer.state.'):
                _, _, index, name = key.split('.', 3)
                state.setdefault(int(index), {})[name] = value.item() if key in scalars else value
            elif key.startswith('optimizer.param_groups.'):
                _, _, g, name = key.split('.', 3)
                groups[int(g)][name] = value
            elif not key.startswith('model.'):
                raise CheckpointError(f'{path}: unexpected tensor {key!r}')
        for saved, live in zip(groups, optimizer.param_groups):  # JSON turned tuples to lists
            for name, value in saved.items():
                if isinstance(live.get(name), tuple) and isinstance(value, list):
                    saved[name] = tuple(value)
        optimizer.load_state_dict({'state': state, 'param_groups': groups})
    except (KeyError, IndexError, TypeError, ValueError, RuntimeError) as e:
        raise CheckpointError(f'{path}: optimizer state does not fit '
                              f'{type(optimizer).__name__}: {e!r}') from e
    if scaler is not None:
        scaler_state = _json(path, metadata, 'scaler')
        if scaler_state:
            scaler.load_state_dict(scaler_state)
        elif scaler.is_enabled():
            raise CheckpointError(f'{path}: no GradScaler state stored, but a scaler was given')
    return config, step, rng_state


def _header(config: Any, kind: str, fmt: str) -> dict[str, str]:
    if not dataclasses.is_dataclass(config) or isinstance(config, type):
        raise TypeError(f'config: expected a dataclass instance, got {type(config).__name__}')
    cls = type(config)
    try:
        config_json = json.dumps(dataclasses.asdict(config))
    except TypeError as e:
        raise ConfigError(f'{cls.__qualname__}: config is not JSON-serialisable ({e})') from e
    return {'format': fmt, 'kind': kind, 'config': config_json,
            'config_class': f'{cls.__module__}.{cls.__qualname__}'}


def _write(path: PathLike, tensors: Mapping[str, Any], metadata: dict[str, str]) -> None:
    """Save detached, contiguous CPU copies (no shared storage) via a temp file + os.replace."""
    for key, value in tensors.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f'{key}: expected a tensor, got {type(value).__name__}')
    copies = {k: v.detach().to('cpu', memory_format=torch.contiguous_format, copy=True)
              for k, v in tensors.items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f'.{path.name}.{uuid.uuid4().hex[:12]}.tmp')
    try:
        save_file(copies, tmp, metadata=metadata)
        with open(tmp, 'r+b') as f:  # on disk before the rename makes it visible
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _read(path: PathLike, fmt: str, kind: str) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    path = Path(path)
    if not path.is_file():
        what = 'is not a file' if path.exists() else 'does not exist'
        raise CheckpointError(f'{path}: checkpoint file {what}')
    try:
        with safe_open(path, framework='pt', device='cpu') as f:
            metadata = f.metadata() or {}
            for key, expected in (('format', fmt), ('kind', kind)):
                if metadata.get(key) != expected:
                    raise CheckpointError(f'{path}: wrong {key}: expected {expected!r}, '
                                          f'found {metadata.get(key)!r}')
            return metadata, {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f'{path}: corrupt or not a safetensors file ({e})') from e


def _json(path: PathLike, metadata: dict[str, str], key: str) -> Any:
    try:
        return json.loads(metadata[key])
    except (KeyError, json.JSONDecodeError) as e:
        raise CheckpointError(f'{path}: metadata {key!r} missing or not JSON ({e!r})') from e


def _config(path: PathLike, metadata: dict[str, str], config_cls: type[C]) -> C:
    if not (dataclasses.is_dataclass(config_cls) and isinstance(config_cls, type)):
        raise TypeError(f'config_cls: expected a dataclass type, got {config_cls!r}')
    try:
        return from_dict(config_cls, _json(path, metadata, 'config'), 'config', require_all=True)
    except (TypeError, ValueError) as e:  # ConfigError, or the dataclass's own validation
        raise CheckpointError(f'{path}: stored config ({metadata.get("config_class")}) does '
                              f'not fit {config_cls.__qualname__}: {e}') from e


def _load_weights(path: PathLike, model: nn.Module, tensors: dict[str, torch.Tensor]) -> None:
    """Load ``tensors`` strictly, naming the first few missing/unexpected/mismatched keys."""
    expected = model.state_dict()
    problems = {
        'missing': [k for k in expected if k not in tensors],
        'unexpected': [k for k in tensors if k not in expected],
        'shape mismatch': [f'{k} (file {tuple(tensors[k].shape)}, model {tuple(v.shape)})'
                           for k, v in expected.items()
                           if k in tensors and tensors[k].shape != v.shape],
    }
    if any(problems.values()):
        listed = [f'{label} {len(keys)}: ' + ', '.join(keys[:_SHOWN])
                  + (', ...' if len(keys) > _SHOWN else '')
                  for label, keys in problems.items() if keys]
        raise CheckpointError(f'{path}: weights do not fit {type(model).__name__}: '
                              + '; '.join(listed))
    try:
        model.load_state_dict(tensors, strict=True)
    except RuntimeError as e:
        raise CheckpointError(f'{path}: loading weights into {type(model).__name__} '
                              f'failed: {e}') from e
