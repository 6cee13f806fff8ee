"""
``lim-ros``: demo, bag processing, data previews, training and benchmarks, without ROS.

lim-ros demo [--out out/demo] [--family humanoid] [--size 128] [--storage sqlite3|mcap]
             [--monocular [--monocular-views generated|direct]]
lim-ros bag IN OUT [--rate 10] [--params config/lim.yaml] [--start S] [--end S] [--tracks DIR]
lim-ros data preview --family chain --seed 0 [--views 4] [--times 0 0.5 1] [--size 128]
lim-ros bench render [--sizes 64 128] [--out out/bench/render.json]
lim-ros bench node [--image-sizes 64 128 256] [--resolutions 32 64 128] [--device cpu]
lim-ros bench track [--lrm PATH] [--interpolation METHOD] [--lim PATH] [--figures DIR]
lim-ros bench monocular [--lrm L] [--generator G] [--samples 4] [--device cpu]
"""

import argparse
import importlib
from pathlib import Path
import sys
from types import ModuleType
from typing import NamedTuple

from lim_ros.errors import LimError
from lim_ros.world.families import (
    FAMILIES,
    HELD_OUT_FAMILIES,
    SEEN_FAMILIES,
    TRAINING_ONLY_FAMILIES,
)

STORAGES = ('sqlite3', 'mcap')


class Trainer(NamedTuple):
    """One ``lim-ros train`` command: a module of `lim_ros.training` with ``train(config)``."""

    module: str
    config_class: str  # the module's config dataclass, read from ``--config``
    default_config: str  # under config/train/
    metric: str  # what the run's summary calls 'best'
    description: str  # the command's help line

    def read_config(self, path: Path) -> tuple[ModuleType, object]:
        """Return the training module and ``path`` (YAML) read into its config dataclass."""
        from lim_ros.config_io import load_yaml

        module = importlib.import_module(f'lim_ros.training.{self.module}')
        return module, load_yaml(path, getattr(module, self.config_class))


TRAINERS = {
    'lrm': Trainer('train_lrm', 'LRMTrainConfig', 'lrm_tiny.yaml', 'IoU',
                   'train the LRM on a cache'),
    'lim': Trainer('train_lim', 'LIMTrainConfig', 'lim_tiny.yaml', 'IoU',
                   'train LIM over a frozen LRM on a cache of sequences'),
    'evidence': Trainer('train_evidence', 'EvidenceTrainConfig', 'lrm_evidence.yaml', 'IoU',
                        'fit the view-evidence correction of a trained LRM on a cache'),
    'mvdiff': Trainer('train_mvdiff', 'MVDiffTrainConfig', 'mvdiff_tiny.yaml', 'PSNR',
                      'train the multi-view diffusion model on an orbit-camera cache'),
}


def _demo(args: argparse.Namespace) -> None:
    import time

    from lim_ros.bag.scene import SceneConfig
    from lim_ros.demo import DemoConfig, monocular_settings, run_demo
    from rich.console import Console

    start = time.perf_counter()
    console = Console()
    scene = SceneConfig(args.family, args.seed, args.duration, args.camera_rate, args.size)
    params = monocular_settings(args.monocular_views) if args.monocular else None
    result = run_demo(DemoConfig(args.out, scene, args.rate, args.storage), params,
                      console=console)
    for what, paths in result.paths.items():
        if len(paths) > 2:
            names = ', '.join(p.name for p in paths)
            console.print(f'{what}: {paths[0].parent}/ ({names})')
        else:
            console.print(f'{what}: ' + ', '.join(str(p) for p in paths))
    steps = ', '.join(f'{name} {s:.1f} s' for name, s in result.seconds.items())
    console.print(f'demo done in {time.perf_counter() - start:.1f} s ({steps})')


def _bag(args: argparse.Namespace) -> None:
    from lim_ros.bag import BagJob, load_parameters, process_bag
    from lim_ros.stream.settings import NodeSettings
    from rich.console import Console

    params = load_parameters(args.params) if args.params else NodeSettings()
    rate = args.rate if args.rate is not None else params.stream.publish_rate
    job = BagJob(args.input, args.output, rate, args.start, args.end, args.storage, args.tracks)
    summary = process_bag(job, params)
    console = Console()
    console.print(summary.table(f'lim-ros bag {args.input} -> {args.output}'))
    for path in summary.track_exports:
        console.print(f'track: {path} and {path.with_suffix("")}/*.obj')


def _preview(args: argparse.Namespace) -> None:
    from lim_ros.data.preview import PreviewConfig, write_preview

    cfg = PreviewConfig(args.family, args.seed, args.views, tuple(args.times), args.size,
                        args.gif_frames)
    for path in write_preview(cfg, args.out):
        print(path)


def _cache(args: argparse.Namespace) -> None:
    from lim_ros.data.cache import write_cache
    from lim_ros.data.dataset import DataConfig

    families = args.families or (HELD_OUT_FAMILIES if args.split == 'held-out'
                                 else SEEN_FAMILIES)
    views = args.views
    if views is None:
        views = 1 + len(args.orbit_offsets) if args.cameras == 'orbit' else 6
    config = DataConfig(families=families, num_samples=args.samples, seed=args.seed,
                        num_views=views, image_size=args.size, num_times=args.times,
                        gap_range=tuple(args.gap_range), cameras=args.cameras,
                        orbit_offsets=tuple(args.orbit_offsets))
    paths = write_cache(config, args.out, shard_size=args.shard_size, num_workers=args.workers)
    print(f'wrote {len(paths)} shards to {args.out}')


def _train(args: argparse.Namespace) -> None:
    trainer = TRAINERS[args.train_command]
    module, config = trainer.read_config(args.config)
    summary = module.train(config, resume=not args.restart)
    print(f"best validation {trainer.metric} {summary['best']}")


def _train_summary(args: argparse.Namespace) -> None:
    from lim_ros.training.log_summary import summarise

    print(summarise(args.run / 'log.jsonl', args.every), end='')


def _eval_lrm(args: argparse.Namespace) -> None:
    from lim_ros.eval.lrm_eval import LRMEvalConfig, run
    from lim_ros.models.lrm import load_lrm

    cfg = LRMEvalConfig(samples_per_split=args.samples, input_views=args.views,
                        grid_resolution=args.grid)
    run(load_lrm(args.checkpoint, args.device), cfg, args.out, args.figures)


def _bench_render(args: argparse.Namespace) -> None:
    from lim_ros.bench.render import RenderBenchConfig, run

    run(RenderBenchConfig(sizes=tuple(args.sizes), families=tuple(args.families),
                          repeats=args.repeats), args.out)


def _bench_node(args: argparse.Namespace) -> None:
    from lim_ros.bench.node import NodeBenchConfig, run

    run(NodeBenchConfig(image_sizes=tuple(args.image_sizes),
                        mesh_resolutions=tuple(args.resolutions), num_points=args.points,
                        repeats=args.repeats, device=args.device), args.out)


def _bench_interp(args: argparse.Namespace) -> None:
    from lim_ros.bench.interp import InterpBenchConfig, run
    from lim_ros.models.lim import load_lim, one_path, PATHS
    from lim_ros.models.lrm import load_lrm

    lims = {'lim': load_lim(args.lim, args.device)}
    if args.ablation is not None:
        lims['lim_no_causal'] = load_lim(args.ablation, args.device)
    if args.paths:
        lims.update({f'lim_{path}': one_path(lims['lim'], path) for path in PATHS})
    cfg = InterpBenchConfig(samples=args.samples, score=_score(args))
    run(load_lrm(args.lrm, args.device), lims, cfg, args.out, args.figures)


def _bench_track(args: argparse.Namespace) -> None:
    from lim_ros.bench.track import run, TrackBenchConfig
    from lim_ros.engine.tracking import TrackingConfig
    from lim_ros.geometry.registration import RegistrationConfig

    colour = {} if args.colour_weight is None else {'track_colour_weight': args.colour_weight}
    tracking = TrackingConfig(track_texture='checker', track_texture_size=256,
                              track_reanchor_error=args.reanchor_error,
                              track_search=args.search, **colour)
    run(TrackBenchConfig(lrm_checkpoint=str(args.lrm), interpolation=args.interpolation,
                         lim_checkpoint=str(args.lim or ''), samples=args.samples,
                         frames=args.frames, keyframe_gap=args.keyframe_gap,
                         mesh_resolution=args.grid, tracking=tracking, track_grid=args.track_grid,
                         registration=RegistrationConfig(**{
                             name: value for name, value in (
                                 ('rigid_steps', args.rigid_steps),
                                 ('edge_tolerance', args.edge_tolerance)) if value is not None})),
        args.out, args.figures)


def _bench_monocular(args: argparse.Namespace) -> None:
    from lim_ros.bench.monocular import MonocularBenchConfig, run
    from lim_ros.models.lrm import load_lrm
    from lim_ros.monocular import load_generator

    generator = load_generator(args.generator, args.device, args.steps, args.seed,
                               args.trust_code)
    run(load_lrm(args.lrm, args.device), generator,
        MonocularBenchConfig(samples=args.samples, score=_score(args)), args.out, args.figures)


def _add_scored_sequences(parser: argparse.ArgumentParser, samples: int, samples_help: str,
                          out: str) -> None:
    """Add the options of a bench that scores fields as `lim-ros eval lrm` does (`_score`)."""
    parser.add_argument('--samples', type=int, default=samples, help=samples_help)
    parser.add_argument('--grid', type=int, default=48, help='grid resolution for IoU/mesh')
    parser.add_argument('--surface-points', type=int, default=5000)
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--out', type=Path, default=Path(out))


def _score(args: argparse.Namespace):
    """Return the `LRMEvalConfig` of `_add_scored_sequences`' options."""
    from lim_ros.eval.lrm_eval import LRMEvalConfig

    return LRMEvalConfig(grid_resolution=args.grid, surface_points=args.surface_points)


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``lim-ros`` argument parser."""
    from lim_ros.engine.interpolation import METHODS

    parser = argparse.ArgumentParser(prog='lim-ros', description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)

    demo = commands.add_parser(
        'demo', help='record a synthetic scene as a camera bag, reconstruct it in 4D, and '
        'write the output bag, meshes, previews and a Chamfer table')
    demo.add_argument('--out', type=Path, default=Path('out/demo'),
                      help='output folder (its earlier demo files are replaced)')
    demo.add_argument('--family', choices=sorted(FAMILIES), default='humanoid')
    demo.add_argument('--seed', type=int, default=0)
    demo.add_argument('--duration', type=float, default=2.0, help='seconds of scene')
    demo.add_argument('--camera-rate', type=float, default=10.0, help='camera frames per second')
    demo.add_argument('--rate', type=float, default=10.0, help='outputs per second')
    demo.add_argument('--size', type=int, default=128, help='camera image side, pixels')
    demo.add_argument('--storage', choices=STORAGES, default='sqlite3')
    demo.add_argument('--monocular', action='store_true',
                      help="one camera (the rig's first): input_mode monocular")
    demo.add_argument('--monocular-views', choices=('generated', 'direct'), default='generated',
                      help='with --monocular: the LRM on the view and generated views, or on '
                      'the single view')
    demo.set_defaults(func=_demo)

    bag = commands.add_parser(
        'bag', help="run the node's engine over a recorded rosbag2 (sqlite3 or mcap) and write "
        'its outputs (/lim_node/points, mesh_marker, mesh) to a new bag')
    bag.add_argument('input', type=Path, help='the camera bag (a rosbag2 directory)')
    bag.add_argument('output', type=Path, help='the bag to write (must not exist)')
    bag.add_argument('--rate', type=float, default=None,
                     help="outputs per second of bag time (default: the params' publish_rate)")
    bag.add_argument('--params', type=Path, default=None,
                     help="the node's parameter file, e.g. config/lim.yaml (default: the "
                     'built-in defaults, which config/lim.yaml mirrors)')
    bag.add_argument('--start', type=float, default=None,
                     help='skip images before this many seconds after the bag start')
    bag.add_argument('--end', type=float, default=None,
                     help='stop this many seconds after the bag start')
    bag.add_argument('--storage', choices=STORAGES, default='sqlite3',
                     help='storage of the output bag')
    bag.add_argument('--tracks', type=Path, default=None,
                     help='export every tracked-mesh track here: track_<id>.glb (animated) '
                     'and track_<id>/*.obj + .mtl + .png per frame (needs tracking: true)')
    bag.set_defaults(func=_bag)

    data = commands.add_parser('data', help='synthetic world data').add_subparsers(
        dest='data_command', required=True)
    preview = data.add_parser('preview', help='image grid and GIF of one sequence')
    preview.add_argument('--family', choices=sorted(FAMILIES), required=True)
    preview.add_argument('--seed', type=int, default=0)
    preview.add_argument('--views', type=int, choices=(4, 6), default=4)
    preview.add_argument('--times', type=float, nargs='+', default=[0.0, 0.5, 1.0, 1.5, 2.0])
    preview.add_argument('--size', type=int, default=128)
    preview.add_argument('--gif-frames', type=int, default=24)
    preview.add_argument('--out', type=Path, default=Path('out/preview'))
    preview.set_defaults(func=_preview)
    cache = data.add_parser('cache', help='render training samples into safetensors shards')
    cache.add_argument('--out', type=Path, required=True)
    families = cache.add_mutually_exclusive_group()
    families.add_argument('--split', choices=('seen', 'held-out'), default=None,
                          help='families of one evaluation split (default: seen)')
    families.add_argument('--families', nargs='+', choices=sorted(FAMILIES),
                          help='families to draw from instead of a split (e.g. the seen ones '
                          'plus the training-only ' + ', '.join(TRAINING_ONLY_FAMILIES) + ')')
    cache.add_argument('--samples', type=int, default=2000)
    cache.add_argument('--seed', type=int, default=0)
    cache.add_argument('--views', type=int, default=None,
                       help='views per sample (default 6; with --cameras orbit, 1 + the '
                       'number of offsets)')
    cache.add_argument('--size', type=int, default=64)
    cache.add_argument('--times', type=int, default=1, help='instants per sample')
    cache.add_argument('--gap-range', type=float, nargs=2, default=[0.1, 0.6],
                       metavar=('LOW', 'HIGH'), help='seconds from the first to the last instant')
    cache.add_argument('--cameras', choices=('random', 'rig', 'orbit'), default='random',
                       help="'orbit': view 0 random, the others it turned by --orbit-offsets "
                       'about the vertical axis (multi-view diffusion data; --views 1 + '
                       'len(offsets))')
    cache.add_argument('--orbit-offsets', type=float, nargs='+', default=[90.0, 180.0, 270.0],
                       metavar='DEG', help='azimuth offsets of the orbit views, degrees')
    cache.add_argument('--shard-size', type=int, default=50)
    cache.add_argument('--workers', type=int, default=2)
    cache.set_defaults(func=_cache)

    training = commands.add_parser('train', help='train a model').add_subparsers(
        dest='train_command', required=True)
    for name, trainer in TRAINERS.items():
        train = training.add_parser(name, help=f'{trainer.description} (resumes from last)')
        train.add_argument('--config', type=Path,
                           default=Path('config/train') / trainer.default_config)
        train.add_argument('--restart', action='store_true',
                           help='ignore an existing last checkpoint')
        train.set_defaults(func=_train)
    summary = training.add_parser('summary', help="a run's log as a Markdown table")
    summary.add_argument('run', type=Path, help='the run directory (holding log.jsonl)')
    summary.add_argument('--every', type=int, default=500)
    summary.set_defaults(func=_train_summary)

    evaluation = commands.add_parser('eval', help='evaluate a model').add_subparsers(
        dest='eval_command', required=True)
    lrm_eval = evaluation.add_parser('lrm', help='LRM vs visual hull on seen / held-out objects')
    lrm_eval.add_argument('--checkpoint', type=Path, default=Path('models/lrm_base.safetensors'))
    lrm_eval.add_argument('--samples', type=int, default=16, help='objects per split')
    lrm_eval.add_argument('--views', type=int, default=4, help='input views per object')
    lrm_eval.add_argument('--grid', type=int, default=64, help='grid resolution for IoU/mesh')
    lrm_eval.add_argument('--device', default='cpu')
    lrm_eval.add_argument('--out', type=Path, default=Path('out/eval/lrm.json'))
    lrm_eval.add_argument('--figures', type=Path, default=None,
                          help='write comparison images (ground truth, LRM, hull) here')
    lrm_eval.set_defaults(func=_eval_lrm)

    bench = commands.add_parser('bench', help='benchmarks (table + JSON)').add_subparsers(
        dest='bench_command', required=True)
    render = bench.add_parser('render', help='renderer rays per second')
    render.add_argument('--sizes', type=int, nargs='+', default=[64, 128])
    render.add_argument('--families', nargs='+', choices=sorted(FAMILIES),
                        default=sorted(FAMILIES))
    render.add_argument('--repeats', type=int, default=2)
    render.add_argument('--out', type=Path, default=Path('out/bench/render.json'))
    render.set_defaults(func=_bench_render)
    node = bench.add_parser('node', help="the node's keyframe and output latency, output rate "
                            'and message sizes by mesh resolution')
    node.add_argument('--image-sizes', type=int, nargs='+', default=[64, 128, 256])
    node.add_argument('--resolutions', type=int, nargs='+', default=[32, 48, 64, 96, 128])
    node.add_argument('--points', type=int, default=20000)
    node.add_argument('--repeats', type=int, default=3)
    node.add_argument('--device', default='cpu')
    node.add_argument('--out', type=Path, default=Path('out/bench/node.json'))
    node.set_defaults(func=_bench_node)
    interp = bench.add_parser('interp', help='interpolation methods (nearest, linear, optical '
                              'flow, triplane flow, LIM, oracle) and the pose-chord reference, '
                              'by split and motion size')
    interp.add_argument('--lrm', type=Path, default=Path('models/lrm_base.safetensors'))
    interp.add_argument('--lim', type=Path, default=Path('models/lim_base.safetensors'))
    interp.add_argument('--ablation', type=Path, default=None,
                        help='also a LIM trained without the causal consistency loss')
    interp.add_argument('--paths', action='store_true',
                        help='also LIM with only its motion gather, and with only its '
                             'correction heads (rows lim_gather, lim_correction)')
    _add_scored_sequences(interp, 12, 'sequences per group', 'out/bench/interp.json')
    interp.add_argument('--figures', type=Path, default=None,
                        help='write large-motion comparisons at alpha 0.5 here')
    interp.set_defaults(func=_bench_interp)
    track = bench.add_parser('track', help='tracked meshes: vertex error and texture drift '
                             'against exact correspondence: canonical and registration '
                             'trackers vs a nearest-neighbour baseline, the pose-chord '
                             'reference and the surface floor')
    track.add_argument('--lrm', type=Path, default=Path('models/lrm_base.safetensors'))
    track.add_argument('--interpolation', choices=METHODS, default='linear',
                       help='between keyframes (lim: a LIM whose canonical head was trained '
                       'across time can carry the motion)')
    track.add_argument('--lim', type=Path, default=None,
                       help='LIM checkpoint for --interpolation lim (default: the shipped one)')
    track.add_argument('--samples', type=int, default=5, help='sequences per split')
    track.add_argument('--frames', type=int, default=10, help='tracked instants over 1 s')
    track.add_argument('--keyframe-gap', type=float, default=0.5,
                       help='seconds between keyframes, dividing 1 s (0.1 with 10 frames: '
                       'every tracked instant is a keyframe: the oracle surfaces)')
    track.add_argument('--grid', type=int, default=48, help='marching-cubes grid per side')
    track.add_argument('--search', choices=('canonical', 'local'), default='canonical',
                       help='track_search of the canonical tracker (the register row always '
                       'registers)')
    track.add_argument('--track-grid', type=int, default=0,
                       help='R > 0: one more row, register_one_track_grid: register on one '
                       'track with track_grid R (fields from an R^3 grid decoded once per '
                       'instant, read trilinearly)')
    track.add_argument('--rigid-steps', type=int, default=None,
                       help='Gauss-Newton steps of the rigid alignment in the register rows '
                       '(0: none; default: as the tracker)')
    track.add_argument('--colour-weight', type=float, default=None,
                       help='weight of the anchor-colour term in the register rows (0: shape '
                       'only; default: as the tracker)')
    track.add_argument('--edge-tolerance', type=float, default=None,
                       help='misfit, in rest lengths, at which an edge of the register rows '
                       'weighs half (edges stretched past it give way; 0: they never do; '
                       'default: as the tracker)')
    track.add_argument('--reanchor-error', type=float, default=0.03,
                       help='metres of mean residual that start a new track (lost vertices '
                       'start one too)')
    track.add_argument('--out', type=Path, default=Path('out/bench/track.json'))
    track.add_argument('--figures', type=Path, default=None,
                       help='write renders of checker-textured tracks here')
    track.set_defaults(func=_bench_track)
    monocular = bench.add_parser('monocular', help='one camera (direct, or with generated '
                                 'views) vs four: reconstruction, interpolation, seconds per '
                                 "keyframe, and the generator's image quality")
    monocular.add_argument('--lrm', type=Path, default=Path('models/lrm_base.safetensors'))
    monocular.add_argument('--generator', type=Path,
                           default=Path('models/mvdiff_prior.safetensors'),
                           help='our .safetensors checkpoint or a local diffusers pipeline '
                           'folder')
    monocular.add_argument('--steps', type=int, default=0,
                           help="the generator's denoising steps (0: its default)")
    monocular.add_argument('--seed', type=int, default=0, help='seed of the initial noise')
    monocular.add_argument('--trust-code', action='store_true',
                           help='let a generator folder run its own pipeline module')
    _add_scored_sequences(monocular, 4, 'sequences per split', 'out/bench/monocular.json')
    monocular.add_argument('--figures', type=Path, default=None,
                           help='write input / true / generated views per split here')
    monocular.set_defaults(func=_bench_monocular)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command; a `LimError` prints one clear line and exits with status 2."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except LimError as error:
        print(f'lim-ros: error: {error}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
