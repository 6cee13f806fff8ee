"""
``lim-ros``: demo, data previews and benchmarks, without a ROS install.

lim-ros demo [--out out/demo]
lim-ros data preview --family chain --seed 0 [--views 4] [--times 0 0.5 1] [--size 128]
lim-ros bench render [--sizes 64 128] [--out out/bench/render.json]
"""

import argparse
from pathlib import Path
import sys

from lim_ros.errors import LimError
from lim_ros.world.families import FAMILIES, HELD_OUT_FAMILIES

DEMO_FAMILIES = ('chain', 'humanoid', 'blob', 'worm', 'tumbler') + HELD_OUT_FAMILIES


def _demo(args: argparse.Namespace) -> None:
    from lim_ros.data.preview import PreviewConfig, write_preview

    for family in args.families:
        split = 'held-out' if family in HELD_OUT_FAMILIES else 'seen'
        paths = write_preview(
            PreviewConfig(family, args.seed, image_size=args.size, gif_frames=args.gif_frames),
            args.out,
        )
        print(f'{family} ({split}):', ', '.join(str(p) for p in paths))


def _preview(args: argparse.Namespace) -> None:
    from lim_ros.data.preview import PreviewConfig, write_preview

    cfg = PreviewConfig(args.family, args.seed, args.views, tuple(args.times), args.size,
                        args.gif_frames)
    for path in write_preview(cfg, args.out):
        print(path)


def _bench_render(args: argparse.Namespace) -> None:
    from lim_ros.bench.render import RenderBenchConfig, run

    run(RenderBenchConfig(sizes=tuple(args.sizes), families=tuple(args.families),
                          repeats=args.repeats), args.out)


def build_parser() -> argparse.ArgumentParser:
    """Build the full ``lim-ros`` argument parser."""
    parser = argparse.ArgumentParser(prog='lim-ros', description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)

    demo = commands.add_parser('demo', help='generate sequences and write previews')
    demo.add_argument('--out', type=Path, default=Path('out/demo'))
    demo.add_argument('--families', nargs='+', choices=sorted(FAMILIES), default=DEMO_FAMILIES)
    demo.add_argument('--seed', type=int, default=0)
    demo.add_argument('--size', type=int, default=128)
    demo.add_argument('--gif-frames', type=int, default=16)
    demo.set_defaults(func=_demo)

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

    bench = commands.add_parser('bench', help='benchmarks (table + JSON)').add_subparsers(
        dest='bench_command', required=True)
    render = bench.add_parser('render', help='renderer rays per second')
    render.add_argument('--sizes', type=int, nargs='+', default=[64, 128])
    render.add_argument('--families', nargs='+', choices=sorted(FAMILIES),
                        default=sorted(FAMILIES))
    render.add_argument('--repeats', type=int, default=2)
    render.add_argument('--out', type=Path, default=Path('out/bench/render.json'))
    render.set_defaults(func=_bench_render)
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
