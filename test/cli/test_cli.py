"""Tests of the ``lim-ros`` command line (run in-process)."""

import json

from lim_ros.cli.main import main
import pytest


def test_demo_writes_previews_for_seen_and_held_out_families(tmp_path, capsys):
    status = main(['demo', '--out', str(tmp_path), '--families', 'blob', 'quadruped',
                   '--size', '24', '--gif-frames', '2'])
    assert status == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert 'blob_0_grid.png' in written and 'quadruped_0.gif' in written
    assert 'held-out' in capsys.readouterr().out


def test_data_preview(tmp_path):
    assert main(['data', 'preview', '--family', 'worm', '--views', '6', '--times', '0', '1',
                 '--size', '16', '--gif-frames', '2', '--out', str(tmp_path)]) == 0
    assert (tmp_path / 'worm_0_grid.png').exists()


def test_bench_render_writes_json_with_a_baseline_ratio(tmp_path):
    out = tmp_path / 'render.json'
    assert main(['bench', 'render', '--sizes', '16', '--families', 'blob', '--repeats', '1',
                 '--out', str(out)]) == 0
    rows = json.loads(out.read_text())['rows']
    assert rows[0]['device'] == 'cpu' and rows[0]['speedup'] > 1.0
    assert rows[0]['tracer_rays_per_s'] > 0


def test_unknown_family_is_rejected_by_the_parser():
    with pytest.raises(SystemExit):
        main(['data', 'preview', '--family', 'dragon'])


def test_missing_checkpoint_is_a_clear_error(tmp_path, capsys):
    status = main(['eval', 'lrm', '--checkpoint', str(tmp_path / 'none.safetensors'),
                   '--out', str(tmp_path / 'x.json')])
    assert status == 2
    assert 'none.safetensors' in capsys.readouterr().err


def test_corrupt_checkpoint_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / 'bad.safetensors'
    bad.write_bytes(b'not a checkpoint at all')
    assert main(['eval', 'lrm', '--checkpoint', str(bad), '--out', str(tmp_path / 'x.json')]) == 2
    assert 'corrupt' in capsys.readouterr().err


def test_bad_training_config_is_a_clear_error(tmp_path, capsys):
    config = tmp_path / 'train.yaml'
    config.write_text('steps: 10\nbatch: 4\n')
    assert main(['train', 'lrm', '--config', str(config)]) == 2
    assert "unknown fields ['batch']" in capsys.readouterr().err
