"""Printing benchmark rows as a table and writing them as JSON."""

from collections.abc import Callable
import json
from pathlib import Path
import platform
import time
from typing import TypeVar

from lim_ros.errors import ConfigError
import numpy as np
from rich.console import Console
from rich.table import Table
import torch

T = TypeVar('T')


def environment() -> dict:
    """Facts that a timing depends on: machine, torch build, threads, GPU."""
    return {
        'machine': platform.machine(),
        'python': platform.python_version(),
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'cuda': torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def mean_of_known(values: object, axis: int | None = None) -> np.ndarray:
    """
    Return the mean over ``axis`` of the values that are not NaN, NaN where none is.

    As ``np.nanmean``, without its warning where a slice is all NaN (a metric that is
    undefined for every sequence of a group, e.g. the Chamfer distance of an empty surface).
    """
    values = np.asarray(values, dtype=float)
    known = ~np.isnan(values)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(known, values, 0.0).sum(axis=axis) / known.sum(axis=axis)


def standard_error(values: object) -> float:
    """
    Return the standard error of the mean of ``values`` (S,): std (ddof 1) / sqrt(S).

    How much a mean over S sequences owes to the particular sequences (the jackknife's
    estimate for a mean); NaN for fewer than two values.
    """
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return float('nan')
    return float(values.std(ddof=1) / np.sqrt(values.size))


def report(title: str, rows: list[dict], out: Path) -> None:
    """Print ``rows`` (dicts with the same keys) as a table and write them with the environment."""
    table = Table(title=title)
    for key in rows[0]:
        table.add_column(key, justify='right')
    for row in rows:
        table.add_row(*(f'{v:.4g}' if isinstance(v, float) else str(v) for v in row.values()))
    Console(width=140).print(table)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'title': title, 'environment': environment(), 'rows': rows},
                              indent=2) + '\n')
    Console().print(f'wrote {out}')


def timed(fn: Callable[[], T], repeats: int, device: torch.device) -> tuple[list[float], T]:
    """Run ``fn`` ``repeats`` (>= 1) times; return the wall times in s (CUDA synchronised)."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ConfigError(f'repeats: expected a positive integer, got {repeats!r}')
    times = []
    for _ in range(repeats):
        if device.type == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        result = fn()
        if device.type == 'cuda':
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return times, result
