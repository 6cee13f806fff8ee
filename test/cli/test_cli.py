"""Tests of the ``lim-ros`` command line (run in-process)."""

from dataclasses import is_dataclass, replace
import json
from pathlib import Path
import shutil

import imageio.v3 as iio
from lim_ros.cli.main import main, TRAINERS
from lim_ros.data.cache import CachedDataset
from lim_ros.demo.pipeline import DemoConfig, run_demo
from lim_ros.engine.config import EngineConfig
from lim_ros.errors import CheckpointError
from lim_ros.stream.settings import NodeSettings
import pytest
import torch

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    """Run ``lim-ros demo`` once at a tiny size (torch on one thread); return its folder."""
    out = tmp_path_factory.mktemp('demo')
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        status = main(['demo', '--out', str(out), '--size', '64', '--duration', '1',
                       '--camera-rate', '4', '--rate', '4', '--storage', 'mcap'])
    finally:
        torch.set_num_threads(threads)
    assert status == 0
    return out


def test_demo_writes_bags_meshes_previews_and_scores(demo, capsys):
    written = sorted(p.name for p in demo.iterdir())
    assert written == ['input_bag', 'meshes', 'output_bag', 'preview.gif', 'preview.png',
                       'tracks']
    assert list((demo / 'tracks').glob('track_*.glb'))
    assert list((demo / 'tracks').glob('track_*/track_*_0000.obj'))
    assert list((demo / 'output_bag').glob('*.mcap'))
    meshes = sorted(p.name for p in (demo / 'meshes').iterdir())
    assert 't00.250s_interpolated.ply' in meshes and 't00.500s_keyframe.obj' in meshes
    preview = iio.imread(demo / 'preview.png')
    assert preview.shape == (2 * 66 + 2, 5 * 66 + 2, 3)  # ground truth, reconstruction x 5
    assert iio.imread(demo / 'preview.gif').shape[0] == 5


def test_demo_reruns_into_a_folder_it_wrote_before(demo, tmp_path, capsys):
    shutil.copytree(demo, tmp_path / 'demo')
    assert main(['demo', '--out', str(tmp_path / 'demo'), '--size', '16', '--duration', '0.5',
                 '--camera-rate', '2', '--rate', '4']) == 0
    assert iio.imread(tmp_path / 'demo' / 'preview.gif').shape[0] == 3
    out = capsys.readouterr().out
    assert 'Chamfer-L1' in out and 'interpolated' in out and 'keyframe' in out
    assert 'demo done in' in out


def test_demo_that_cannot_load_its_models_keeps_the_last_run(demo, tmp_path):
    shutil.copytree(demo, tmp_path / 'demo')
    before = sorted(p.relative_to(tmp_path) for p in (tmp_path / 'demo').rglob('*'))
    engine = replace(EngineConfig(), lrm_checkpoint=str(tmp_path / 'none.safetensors'))
    with pytest.raises(CheckpointError, match='none.safetensors'):
        run_demo(DemoConfig(out=tmp_path / 'demo'), NodeSettings(engine=engine))
    assert sorted(p.relative_to(tmp_path) for p in (tmp_path / 'demo').rglob('*')) == before


def test_bag_command_processes_a_bag_with_a_params_file(demo, tmp_path, capsys):
    output = tmp_path / 'out'
    assert main(['bag', str(demo / 'input_bag'), str(output), '--rate', '2', '--end', '0.6',
                 '--params', str(REPO / 'config' / 'lim.yaml'), '--storage', 'sqlite3']) == 0
    assert list(output.glob('*.db3'))
    out = capsys.readouterr().out
    assert 'keyframes' in out and 'outputs' in out and 'wall time' in out


def test_bag_command_errors_are_one_clear_line(demo, tmp_path, capsys):
    params = tmp_path / 'params.yaml'
    params.write_text('lim_node:\n  ros__parameters:\n    publish_rat: 5.0\n')
    assert main(['bag', str(demo / 'input_bag'), str(tmp_path / 'o'), '--params',
                 str(params)]) == 2
    assert "unknown parameter 'publish_rat'" in capsys.readouterr().err
    assert main(['bag', str(tmp_path / 'missing'), str(tmp_path / 'o')]) == 2
    assert 'no such bag' in capsys.readouterr().err


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


def test_bench_node_writes_latencies_sizes_and_baseline_ratios(tmp_path):
    out = tmp_path / 'node.json'
    assert main(['bench', 'node', '--image-sizes', '64', '--resolutions', '32', '--points',
                 '500', '--repeats', '1', '--out', str(out)]) == 0
    keyframe, output = json.loads(out.read_text())['rows']
    assert keyframe['stage'] == 'image → keyframe' and keyframe['ms'] > 0
    assert output['faces'] > 0 and output['rate_hz'] > 0
    assert output['points_kb'] == pytest.approx(500 * 16 / 1024, rel=0.05)
    # ratios only: their size is the benchmark's business, not a unit test's
    assert output['grid_speedup'] > 0
    assert output['marker_objects_ms'] > 0 and output['marker_speedup'] > 0


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


def test_train_lim_and_bench_interp_name_missing_inputs(tmp_path, capsys):
    config = tmp_path / 'lim.yaml'
    config.write_text(f'data_dir: {tmp_path / "no_cache"}\nout_dir: {tmp_path / "run"}\n')
    assert main(['train', 'lim', '--config', str(config)]) == 2
    assert 'no shard' in capsys.readouterr().err
    assert main(['bench', 'interp', '--lim', str(tmp_path / 'missing.safetensors'),
                 '--out', str(tmp_path / 'interp.json')]) == 2
    assert 'missing.safetensors' in capsys.readouterr().err


def test_bench_track_names_a_missing_checkpoint(tmp_path, capsys):
    assert main(['bench', 'track', '--lrm', str(tmp_path / 'base.safetensors'),
                 '--out', str(tmp_path / 'track.json')]) == 2
    assert 'base.safetensors' in capsys.readouterr().err


@pytest.mark.parametrize('option, value, name', [('--rigid-steps', '-1', 'rigid_steps'),
                                                 ('--colour-weight', 'nan', 'colour_weight'),
                                                 ('--keyframe-gap', '0.3', 'keyframe_gap')])
def test_bench_track_names_a_bad_setting(tmp_path, capsys, option, value, name):
    assert main(['bench', 'track', option, value, '--out', str(tmp_path / 'track.json')]) == 2
    assert name in capsys.readouterr().err
    assert not (tmp_path / 'track.json').exists()


def test_demo_monocular_records_and_reconstructs_one_camera(tmp_path, capsys):
    assert main(['demo', '--monocular', '--out', str(tmp_path), '--size', '64', '--duration',
                 '0.5', '--camera-rate', '2', '--rate', '2']) == 0
    out = capsys.readouterr().out
    assert 'x 1 cameras' in out and 'keyframe' in out
    assert iio.imread(tmp_path / 'preview.gif').shape[0] == 2


def test_orbit_cache_defaults_to_one_view_per_offset_plus_the_input(tmp_path):
    out = tmp_path / 'c'
    assert main(['data', 'cache', '--out', str(out), '--cameras', 'orbit', '--orbit-offsets',
                 '120', '240', '--samples', '1', '--workers', '1']) == 0
    assert CachedDataset(out)[0].rgb.shape[1] == 3


def test_cache_draws_from_named_families_instead_of_a_split(tmp_path, capsys):
    out = tmp_path / 'c'
    assert main(['data', 'cache', '--out', str(out), '--families', 'creature', '--views', '2',
                 '--samples', '2', '--workers', '1']) == 0
    assert {CachedDataset(out)[i].family for i in range(2)} == {'creature'}
    with pytest.raises(SystemExit):
        main(['data', 'cache', '--out', str(out), '--families', 'creature', '--split',
              'held-out', '--samples', '1'])
    assert 'not allowed with argument' in capsys.readouterr().err


def test_orbit_cache_and_bench_monocular_name_bad_input(tmp_path, capsys):
    assert main(['data', 'cache', '--out', str(tmp_path / 'c'), '--cameras', 'orbit',
                 '--views', '6', '--samples', '1']) == 2
    assert 'num_views: expected 1 + len(orbit_offsets) = 4' in capsys.readouterr().err
    missing = tmp_path / 'missing.safetensors'
    assert main(['bench', 'monocular', '--generator', str(missing), '--out',
                 str(tmp_path / 'm.json')]) == 2
    assert f'{missing}: checkpoint file does not exist' in capsys.readouterr().err


def test_bench_interp_paths_adds_one_row_per_lim_path(tmp_path):
    out = tmp_path / 'interp.json'
    assert main(['bench', 'interp', '--lrm', str(REPO / 'models/lrm_tiny.safetensors'),
                 '--lim', str(REPO / 'models/lim_tiny.safetensors'), '--paths',
                 '--samples', '1', '--grid', '16', '--surface-points', '300',
                 '--out', str(out)]) == 0
    rows = json.loads(out.read_text())['rows']
    methods = {r['method'] for r in rows}
    assert {'lim', 'lim_gather', 'lim_correction', 'linear'} <= methods
    for split in ('seen', 'held_out'):
        large = {r['method']: r for r in rows if (r['split'], r['motion']) == (split, 'large')}
        assert large['lim_gather']['iou'] != large['lim_correction']['iou']


@pytest.mark.parametrize('name', sorted(TRAINERS))
def test_every_train_command_reads_its_default_config_into_its_module_config(name):
    trainer = TRAINERS[name]
    module, config = trainer.read_config(REPO / 'config' / 'train' / trainer.default_config)
    assert is_dataclass(config) and callable(module.train)
    assert type(config).__name__ == trainer.config_class
