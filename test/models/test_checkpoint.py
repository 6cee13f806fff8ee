"""Tests of safetensors checkpoints: round trips, clear errors, atomic writes, exact resume."""

from dataclasses import dataclass, field
import json
from pathlib import Path
import struct

from lim_ros.errors import CheckpointError
from lim_ros.models.checkpoint import (
    FORMAT,
    load_model,
    load_training_state,
    read_checkpoint,
    save_checkpoint,
    save_training_state,
)
import pytest
from safetensors import safe_open
from safetensors.torch import save_file
import torch
from torch import nn


@dataclass(frozen=True)
class BlockConfig:
    channels: tuple[int, ...] = (4, 8)
    kernel: tuple[int, int] = (3, 3)


@dataclass(frozen=True)
class NetConfig:
    in_dim: int = 3
    hidden: int = 8
    out_dim: int = 2
    dropout: float = 0.0
    block: BlockConfig = field(default_factory=BlockConfig)
    planes: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2))
    head: BlockConfig | None = None
    name: str = 'tiny'


@dataclass(frozen=True)
class NetConfigV2(NetConfig):
    depth: int = 2  # a field NetConfig does not know


@dataclass(frozen=True)
class SmallConfig:
    in_dim: int = 3


class Net(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(config.in_dim, config.hidden), nn.Tanh(), nn.Dropout(config.dropout),
            nn.Linear(config.hidden, config.out_dim))
        self.register_buffer('scale', torch.arange(config.out_dim, dtype=torch.float32))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x) * self.scale


class TiedNet(nn.Module):
    def __init__(self, config: NetConfig):
        super().__init__()
        self.a = nn.Linear(config.in_dim, config.in_dim)
        self.b = nn.Linear(config.in_dim, config.in_dim)
        self.b.weight = self.a.weight  # shared storage: safetensors refuses it unless copied


CONFIG = NetConfig(hidden=6, block=BlockConfig(channels=(2, 4, 8), kernel=(5, 5)),
                   planes=((1, 2),), head=BlockConfig(channels=(1,)), name='round-trip')


def _assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_round_trip_restores_weights_config_and_extra(tmp_path):
    torch.manual_seed(0)
    model = Net(CONFIG)
    path = tmp_path / 'net.safetensors'
    save_checkpoint(path, model, CONFIG, kind='lrm', extra={'step': 12, 'loss': 0.25, 'by': 'x'})
    loaded, config, extra = load_model(path, Net, NetConfig, kind='lrm')
    assert config == CONFIG
    assert isinstance(config.block, BlockConfig) and isinstance(config.head, BlockConfig)
    assert config.planes == ((1, 2),) and isinstance(config.block.channels, tuple)
    assert extra == {'step': 12, 'loss': 0.25, 'by': 'x'}
    _assert_same_weights(model, loaded)
    config2, tensors, _ = read_checkpoint(path, NetConfig, kind='lrm')
    assert config2 == CONFIG and set(tensors) == set(model.state_dict())


def test_tied_and_non_contiguous_tensors_are_saved(tmp_path):
    model = TiedNet(CONFIG)
    model.a.bias.data = torch.randn(CONFIG.in_dim * 2)[::2]  # a strided view
    path = tmp_path / 'tied.safetensors'
    save_checkpoint(path, model, CONFIG, kind='lrm')
    loaded, _, _ = load_model(path, TiedNet, NetConfig, kind='lrm')
    _assert_same_weights(model, loaded)
    assert loaded.a.weight is loaded.b.weight


def test_file_is_plain_safetensors_without_pickle(tmp_path):
    model = Net(CONFIG)
    path = tmp_path / 'net.safetensors'
    save_checkpoint(path, model, CONFIG, kind='lim')
    raw = path.read_bytes()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])  # the whole header is JSON ...
    meta = header.pop('__metadata__')
    assert meta['format'] == FORMAT and meta['kind'] == 'lim'
    assert meta['config_class'].endswith('NetConfig')
    assert json.loads(meta['config'])['planes'] == [[1, 2]]
    end = max(entry['data_offsets'][1] for entry in header.values())
    assert len(raw) == 8 + n + end  # ... followed by raw tensor bytes and nothing else
    with safe_open(path, framework='pt') as f:
        assert set(f.keys()) == set(model.state_dict())
        for key in f.keys():
            assert torch.equal(f.get_tensor(key), model.state_dict()[key])


def test_atomic_save_leaves_no_temp_files_and_replaces(tmp_path):
    path = tmp_path / 'sub' / 'net.safetensors'
    save_checkpoint(path, Net(CONFIG), CONFIG, kind='lrm')
    save_checkpoint(path, Net(CONFIG), CONFIG, kind='lrm', extra={'n': 2})
    assert [p.name for p in path.parent.iterdir()] == ['net.safetensors']
    assert read_checkpoint(path, NetConfig, kind='lrm')[2] == {'n': 2}


def test_failed_save_keeps_old_file_and_no_temp(tmp_path, monkeypatch):
    path = tmp_path / 'net.safetensors'
    save_checkpoint(path, Net(CONFIG), CONFIG, kind='lrm', extra={'n': 1})
    before = path.read_bytes()

    def interrupted(tensors, filename, metadata=None):
        Path(filename).write_bytes(b'partial')
        raise KeyboardInterrupt

    monkeypatch.setattr('lim_ros.models.checkpoint.save_file', interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, Net(CONFIG), CONFIG, kind='lrm', extra={'n': 2})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ['net.safetensors']


def test_missing_file(tmp_path):
    path = tmp_path / 'nope.safetensors'
    with pytest.raises(CheckpointError, match='nope.safetensors.*does not exist'):
        read_checkpoint(path, NetConfig, kind='lrm')
    with pytest.raises(CheckpointError, match='is not a file'):
        load_model(tmp_path, Net, NetConfig, kind='lrm')


@pytest.mark.parametrize('damage', ['garbage', 'truncated', 'empty'])
def test_corrupt_file(tmp_path, damage):
    path = tmp_path / 'bad.safetensors'
    save_checkpoint(path, Net(CONFIG), CONFIG, kind='lrm')
    raw = path.read_bytes()
    path.write_bytes({'garbage': b'\x93NUMPY not a checkpoint' * 10,
                      'truncated': raw[:len(raw) - 7], 'empty': b''}[damage])
    with pytest.raises(CheckpointError, match='bad.safetensors.*corrupt or not a safetensors'):
        load_model(path, Net, NetConfig, kind='lrm')


def test_wrong_kind_and_format(tmp_path):
    path = tmp_path / 'net.safetensors'
    save_checkpoint(path, Net(CONFIG), CONFIG, kind='lrm')
    with pytest.raises(CheckpointError, match="kind: expected 'lim', found 'lrm'"):
        read_checkpoint(path, NetConfig, kind='lim')
    save_file({'w': torch.zeros(2)}, tmp_path / 'plain.safetensors')
    with pytest.raises(CheckpointError, match="format: expected 'lim_ros/1', found None"):
        read_checkpoint(tmp_path / 'plain.safetensors', NetConfig, kind='lrm')
    state = tmp_path / 'state.safetensors'
    model = Net(CONFIG)
    save_training_state(state, model, torch.optim.SGD(model.parameters()), CONFIG, kind='lrm',
                        step=0)
    with pytest.raises(CheckpointError, match="found 'lim_ros-training/1'"):
        read_checkpoint(state, NetConfig, kind='lrm')


def test_unknown_and_missing_config_fields_are_named(tmp_path):
    path = tmp_path / 'v2.safetensors'
    save_checkpoint(path, Net(CONFIG), NetConfigV2(), kind='lrm')
    with pytest.raises(CheckpointError, match=r"NetConfigV2.*unknown fields \['depth'\]"):
        read_checkpoint(path, NetConfig, kind='lrm')
    save_checkpoint(path, Net(CONFIG), SmallConfig(), kind='lrm')
    with pytest.raises(CheckpointError, match=r"missing fields \['hidden', 'out_dim'"):
        read_checkpoint(path, NetConfig, kind='lrm')


def test_mismatched_architecture_names_the_keys(tmp_path):
    path = tmp_path / 'net.safetensors'
    save_checkpoint(path, Net(CONFIG), CONFIG, kind='lrm')
    with pytest.raises(CheckpointError, match=r'shape mismatch 3: body.0.weight \(file \(6, 3\), '
                                              r'model \(16, 3\)\)'):
        load_model(path, lambda c: Net(NetConfig(hidden=16)), NetConfig, kind='lrm')
    with pytest.raises(CheckpointError, match=r'missing 4: a.weight.*unexpected 5: body\.0\.'):
        load_model(path, TiedNet, NetConfig, kind='lrm')


def _batch(step: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(16, 3, generator=g)
    return x, torch.stack([x.sum(-1).sin(), x.prod(-1)], -1)


def _train(model: nn.Module, opt: torch.optim.Optimizer, steps: range) -> None:
    for step in steps:
        x, y = _batch(step)
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()


@pytest.mark.parametrize('make_opt', [
    lambda p: torch.optim.Adam(p, lr=1e-2, betas=(0.8, 0.99)),
    lambda p: torch.optim.AdamW(p, lr=1e-2, weight_decay=0.1, amsgrad=True),
    lambda p: torch.optim.SGD(p, lr=1e-2, momentum=0.9, nesterov=True),
], ids=['adam', 'adamw-amsgrad', 'sgd-nesterov'])
def test_resume_is_bit_identical(tmp_path, make_opt):
    config = NetConfig(hidden=16, dropout=0.2)  # dropout: resuming must restore the RNG too
    torch.manual_seed(0)
    model = Net(config)
    opt = make_opt(model.parameters())
    _train(model, opt, range(5))
    path = tmp_path / 'state.safetensors'
    save_training_state(path, model, opt, config, kind='lim', step=5,
                        rng_state=torch.get_rng_state())
    _train(model, opt, range(5, 12))

    torch.manual_seed(123)  # a different initialisation and RNG stream, then resume
    resumed = Net(config)
    resumed_opt = make_opt(resumed.parameters())
    loaded_config, step, rng_state = load_training_state(path, resumed, resumed_opt, NetConfig,
                                                         kind='lim')
    assert loaded_config == config and step == 5
    torch.set_rng_state(rng_state)
    _train(resumed, resumed_opt, range(step, 12))
    _assert_same_weights(model, resumed)
    assert resumed_opt.state_dict()['param_groups'] == opt.state_dict()['param_groups']


def test_training_state_keeps_python_scalars_and_scaler(tmp_path):
    model = Net(CONFIG)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    first = next(iter(model.parameters()))
    opt.state[first].update(calls=3, ratio=0.25, done=True, buf=torch.ones(2))
    scaler = torch.amp.GradScaler('cpu', init_scale=512.0, growth_interval=7)
    path = tmp_path / 'state.safetensors'
    save_training_state(path, model, opt, CONFIG, kind='lim', step=42, scaler=scaler)
    with safe_open(path, framework='pt') as f:
        assert f.get_tensor('optimizer.state.0.calls').shape == ()

    fresh_opt = torch.optim.SGD(model.parameters(), lr=0.5)
    fresh_scaler = torch.amp.GradScaler('cpu')
    _, step, rng_state = load_training_state(path, model, fresh_opt, NetConfig, kind='lim',
                                             scaler=fresh_scaler)
    assert step == 42 and rng_state is None
    state = fresh_opt.state[first]
    assert (state['calls'], state['ratio'], state['done']) == (3, 0.25, True)
    assert type(state['calls']) is int and type(state['done']) is bool
    assert torch.equal(state['buf'], torch.ones(2))
    assert fresh_opt.param_groups[0]['lr'] == 0.1
    assert fresh_scaler.state_dict() == scaler.state_dict()


def test_training_state_rejects_other_optimizer_layout(tmp_path):
    model = Net(CONFIG)
    opt = torch.optim.Adam(model.parameters())
    _train(model, opt, range(1))
    path = tmp_path / 'state.safetensors'
    save_training_state(path, model, opt, CONFIG, kind='lim', step=1)
    params = list(model.parameters())
    two_groups = torch.optim.Adam([{'params': params[:2]}, {'params': params[2:]}])
    with pytest.raises(CheckpointError, match='optimizer state does not fit Adam'):
        load_training_state(path, model, two_groups, NetConfig, kind='lim')
