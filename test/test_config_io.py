"""Tests of config dataclasses from YAML and plain data."""

from dataclasses import asdict, dataclass, field
from pathlib import Path

from lim_ros.config_io import ADDED_SWITCH, from_dict, load_yaml
from lim_ros.errors import ConfigError
from lim_ros.training.train_lrm import LRMTrainConfig
import pytest

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Inner:
    sizes: tuple[int, ...] = (1, 2)
    name: str = 'a'


@dataclass(frozen=True)
class Outer:
    inner: Inner = field(default_factory=Inner)
    rate: float = 1.0


def test_round_trip_rebuilds_tuples_and_nested_dataclasses():
    config = Outer(Inner((3, 4, 5), 'b'), 2.5)
    assert from_dict(Outer, asdict(config)) == config


def test_missing_keys_take_defaults_unless_all_are_required():
    assert from_dict(Outer, {'rate': 3.0}) == Outer(rate=3.0)
    with pytest.raises(ConfigError, match='missing'):
        from_dict(Outer, {'rate': 3.0}, require_all=True)


@dataclass(frozen=True)
class Switched:
    rate: float = 1.0
    switch: bool = field(default=False, metadata=ADDED_SWITCH)


def test_an_added_switch_may_be_missing_even_when_all_are_required():
    assert from_dict(Switched, {'rate': 2.0}, require_all=True) == Switched(2.0, False)
    assert from_dict(Switched, {'rate': 2.0, 'switch': True}, require_all=True).switch
    with pytest.raises(ConfigError, match="missing fields \\['rate'\\]"):
        from_dict(Switched, {'switch': True}, require_all=True)


def test_unknown_key_is_named():
    with pytest.raises(ConfigError, match='sizez'):
        from_dict(Outer, {'inner': {'sizez': [1]}})


def test_yaml_file_errors_name_the_file(tmp_path):
    path = tmp_path / 'bad.yaml'
    path.write_text('steps: 10\nlearning_rate: 0.1\n')
    with pytest.raises(ConfigError, match='bad.yaml.*learning_rate'):
        load_yaml(path, LRMTrainConfig)
    with pytest.raises(ConfigError, match='no such config file'):
        load_yaml(tmp_path / 'missing.yaml', LRMTrainConfig)


@pytest.mark.parametrize('name', ['lrm_tiny', 'lrm_base'])
def test_shipped_training_configs_load(name):
    config = load_yaml(ROOT / 'config' / 'train' / f'{name}.yaml', LRMTrainConfig)
    assert config.model.image_size in (64, 128)
    assert config.steps > 0
