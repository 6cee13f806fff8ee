"""Summaries of a training run's JSON-lines log, as a Markdown table for model cards."""

import json
from pathlib import Path

from lim_ros.errors import CheckpointError

# the columns shown, in this order, when the log has them (LRM, LIM and mvdiff logs differ)
COLUMNS = ('step', 'elapsed_s', 'loss', 'plane', 'distill', 'causal_plane', 'sdf', 'surface',
           'albedo', 'render_albedo', 'render_mask', 'denoise', 'val_iou_seen',
           'val_iou_held_out', 'val_psnr_seen', 'val_psnr_held_out')


def summarise(log_path: Path, every: int = 500) -> str:
    """Return a Markdown table of the log's records at multiples of ``every`` steps."""
    path = Path(log_path)
    if not path.is_file():
        raise CheckpointError(f'{path}: no training log')
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    picked = [r for r in records if r['step'] % every == 0 or r is records[-1]]
    columns = [name for name in COLUMNS if any(name in r for r in records)]
    lines = ['| ' + ' | '.join(columns) + ' |', '|' + '---|' * len(columns)]
    for record in picked:
        cells = []
        for name in columns:
            value = record.get(name, '')
            cells.append(f'{value:.4g}' if isinstance(value, float) else str(value))
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'
