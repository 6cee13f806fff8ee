"""
Pre-rendered training samples on disk, so training does not wait for the renderer.

Layout: a directory of ``shard_NNNNN.safetensors`` files, each holding a batch of
`WorldSample` fields stacked along a first axis (images as float16, geometry as float32) and,
in its metadata, the `DataConfig` as JSON and the samples' families. Shard k holds samples
``k·shard_size … (k+1)·shard_size - 1`` of the `WorldDataset`, so a cache is reproducible from
its config.
"""

import dataclasses
import json
from pathlib import Path

from lim_ros.data.dataset import DataConfig, make_loader, WorldSample
from lim_ros.errors import CheckpointError
from safetensors import safe_open
from safetensors.torch import save_file
import torch
from torch.utils.data import Dataset
from tqdm import tqdm

IMAGE_FIELDS = ('rgb', 'albedo', 'mask', 'depth', 'canonical_image')
TENSOR_FIELDS = tuple(f for f in WorldSample._fields if f not in ('family', 'object_seed'))


def write_cache(config: DataConfig, out_dir: Path, shard_size: int = 50,
                num_workers: int = 2) -> list[Path]:
    """Render ``config.num_samples`` samples into shards under ``out_dir``; return the paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    meta_config = json.dumps(dataclasses.asdict(config))
    paths = []
    loader = make_loader(config, batch_size=shard_size, num_workers=num_workers)
    for k, batch in enumerate(tqdm(loader, desc=f'caching {out_dir.name}', unit='shard')):
        tensors = {}
        for name in TENSOR_FIELDS:
            value = getattr(batch, name)
            tensors[name] = (value.half() if name in IMAGE_FIELDS else value).contiguous()
        tensors['object_seed'] = batch.object_seed
        path = out_dir / f'shard_{k:05d}.safetensors'
        save_file(tensors, str(path), metadata={'config': meta_config,
                                                'families': json.dumps(list(batch.family))})
        paths.append(path)
    return paths


class CachedDataset(Dataset):
    """All samples of a cache directory, held in memory; items are `WorldSample` (float32)."""

    def __init__(self, directory: Path) -> None:
        """Load every shard of ``directory``."""
        paths = sorted(Path(directory).glob('shard_*.safetensors'))
        if not paths:
            raise CheckpointError(f'{directory}: no shard_*.safetensors files (run data cache)')
        columns: dict[str, list[torch.Tensor]] = {n: [] for n in (*TENSOR_FIELDS, 'object_seed')}
        self.families: list[str] = []
        for path in paths:
            try:
                with safe_open(str(path), framework='pt') as f:
                    self.families += json.loads(f.metadata()['families'])
                    for name in columns:
                        columns[name].append(f.get_tensor(name))
            except (OSError, KeyError, ValueError) as error:
                raise CheckpointError(f'{path}: corrupt cache shard ({error})') from error
        self.columns = {n: torch.cat(v) for n, v in columns.items()}

    def __len__(self) -> int:
        """Return the number of samples."""
        return len(self.families)

    def __getitem__(self, index: int) -> WorldSample:
        """Return sample ``index`` with images converted back to float32."""
        values = {n: self.columns[n][index].float() for n in TENSOR_FIELDS}
        return WorldSample(family=self.families[index],
                           object_seed=int(self.columns['object_seed'][index]), **values)
