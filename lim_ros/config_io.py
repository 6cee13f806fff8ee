"""
Config dataclasses from plain data (YAML files, checkpoint metadata) and back.

Keys must equal field names: an unknown key fails loudly with its name, a missing key takes
the field's default. Nested dataclasses are built recursively and lists become tuples where
the field is a tuple.
"""

import dataclasses
from pathlib import Path
import types
import typing
from typing import Any, TypeVar

from lim_ros.errors import ConfigError
import yaml

T = TypeVar('T')

ADDED_SWITCH = {'added_switch': True}
"""
Field metadata of a switch added to a model config after checkpoints of it were shipped, whose
default is the behaviour before it: a checkpoint that lacks it loads with that default.
"""


def from_dict(cls: type[T], data: Any, where: str = '', require_all: bool = False) -> T:
    """
    Build dataclass ``cls`` from plain ``data``; ``where`` prefixes errors (a file, a key).

    Unknown keys always fail; missing keys fail with ``require_all`` (checkpoints, where a
    default could silently build a different model), except fields marked `ADDED_SWITCH`, and
    otherwise take the field's default.
    """
    where = where or cls.__qualname__
    if not dataclasses.is_dataclass(cls):
        raise ConfigError(f'{where}: {cls.__qualname__} is not a dataclass')
    if not isinstance(data, dict):
        raise ConfigError(f'{where}: expected an object for {cls.__qualname__}, '
                          f'found {type(data).__name__}')
    fields = {f.name: f for f in dataclasses.fields(cls)}
    init = [name for name, f in fields.items() if f.init]
    unknown = sorted(set(data) - set(fields))
    missing = [name for name in init if name not in data
               and not fields[name].metadata.get('added_switch')] if require_all else []
    if unknown or missing:
        found = [f'{label} fields {names}' for label, names in
                 (('unknown', unknown), ('missing', missing)) if names]
        raise ConfigError(f'{where} ({cls.__qualname__}): ' + ', '.join(found))
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError):  # unresolvable annotations: fall back on the defaults' types
        hints = {}
    return cls(**{name: _convert(hints.get(name, _default_type(fields[name])), data[name],
                                 f'{where}.{name}') for name in init if name in data})


def _default_type(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return type(f.default)
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory if isinstance(f.default_factory, type) else Any
    return Any


def _container(tp: Any) -> type | None:
    origin = typing.get_origin(tp) or tp
    if origin is dict or (isinstance(origin, type) and dataclasses.is_dataclass(origin)):
        return dict
    return list if origin in (tuple, list) else None


def _convert(tp: Any, value: Any, where: str, require_all: bool = False) -> Any:
    """Turn a JSON value back into type ``tp``: tuples, nested dataclasses, unions of them."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if value is None or not isinstance(value, (dict, list)):
        return value
    if origin in (typing.Union, types.UnionType):
        arm = next((a for a in args if _container(a) is type(value)), Any)
        return _convert(arm, value, where, require_all)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return from_dict(tp, value, where, require_all)
    if isinstance(value, list) and (tp is tuple or origin is tuple):
        if len(args) == 2 and args[1] is Ellipsis:
            args = (args[0],) * len(value)
        elif args and len(args) != len(value):
            raise ConfigError(f'{where}: expected {len(args)} items, found {len(value)}')
        return tuple(_convert(args[i] if args else Any, v, f'{where}[{i}]', require_all)
                     for i, v in enumerate(value))
    if isinstance(value, list) and origin is list and args:
        return [_convert(args[0], v, f'{where}[{i}]', require_all) for i, v in enumerate(value)]
    if isinstance(value, dict) and origin is dict and len(args) == 2:
        return {k: _convert(args[1], v, f'{where}[{k!r}]', require_all) for k, v in value.items()}
    return value


def load_yaml(path: Path, cls: type[T]) -> T:
    """Read a YAML file whose keys are ``cls``'s fields."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f'{path}: no such config file')
    with path.open() as f:
        data = yaml.safe_load(f) or {}
    try:
        return from_dict(cls, data, str(path))
    except TypeError as error:  # the dataclass's own validation of a value's type
        raise ConfigError(f'{path}: {error}') from error
