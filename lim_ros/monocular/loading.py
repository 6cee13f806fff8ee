"""
Multi-view generators from local files: our checkpoint, or a user's diffusers pipeline folder.

A ``.safetensors`` file is our `MultiViewDiffusion` checkpoint. A directory is a diffusers
pipeline saved with ``save_pretrained`` (model_index.json and one folder per component),
loaded with ``local_files_only=True`` (never a hub download): our `MultiViewPipeline`, or a
Zero123++-style pipeline whose class is in the folder's ``pipeline.py`` (model_index.json's
``_class_name`` ``["pipeline", "<Class>"]``), called as ``pipe(image, num_inference_steps=,
generator=)`` and returning ``.images[0]``, a grid of its views. Such a folder also needs
``lim_views.json``, the `ViewLayout` of its views (its keys are the layout's fields), e.g. for
Zero123++ v1.2: ``{"offsets_deg": [30, 90, 150, 210, 270, 330], "elevations_deg": [20, -10,
20, -10, 20, -10], "rows": 3, "cols": 2, "fov_deg": 30}``.
"""

from dataclasses import dataclass
import json
from pathlib import Path
from typing import Any, TYPE_CHECKING

from lim_ros.cameras import Cameras, elevation_deg
from lim_ros.config_io import from_dict
from lim_ros.errors import CheckpointError, ConfigError
from lim_ros.monocular.views import GeneratedViews, target_cameras, ViewLayout
import numpy as np
from PIL import Image
import torch
import torch.nn.functional as F

if TYPE_CHECKING:  # the prior needs the engine, which imports this module
    from lim_ros.monocular.prior import RenderedPrior

LAYOUT_FILE = 'lim_views.json'


def load_local_pipeline(path: str | Path, device: torch.device | str = 'cpu',
                        trust_code: bool = False) -> tuple[object, ViewLayout]:
    """
    Load the diffusers pipeline saved in directory ``path`` (local files only) and its layout.

    A Zero123++-style folder runs its own ``<module>.py``: only with ``trust_code``.

    :raises CheckpointError: for a missing directory, a missing or unreadable
        model_index.json, a component folder it names that is missing, an unsupported class,
        custom code without ``trust_code``, a missing or bad layout file, or a load failure.
    """
    # from its own module: mypy reads diffusers' top-level names as its dummy placeholders
    from diffusers.pipelines.pipeline_utils import DiffusionPipeline
    from lim_ros.monocular.pipeline import MultiViewPipeline

    folder = Path(path)
    if not folder.is_dir():
        what = 'is not a directory' if folder.exists() else 'does not exist'
        raise CheckpointError(f'{folder}: diffusers pipeline folder {what}')
    index = _json_file(folder / 'model_index.json', 'a diffusers pipeline folder (from '
                       'save_pretrained) needs model_index.json')
    class_name = index.get('_class_name')
    missing = [name for name, value in index.items() if not name.startswith('_')
               and isinstance(value, list) and len(value) == 2 and value[0] is not None
               and not (folder / name).is_dir()]
    if missing:
        raise CheckpointError(f'{folder}: model_index.json names components without a folder: '
                              f'{", ".join(missing)}')
    pipeline_class: type[DiffusionPipeline]
    if class_name == MultiViewPipeline.__name__:
        pipeline_class, layout = MultiViewPipeline, None
    elif isinstance(class_name, list) and (folder / f'{class_name[0]}.py').is_file():
        if not trust_code:
            raise CheckpointError(f'{folder}: the pipeline class comes from {class_name[0]}.py '
                                  'in the folder, which would run; allow it with trust_code '
                                  '(the generator_trust_code parameter) if you trust it')
        pipeline_class, layout = DiffusionPipeline, _layout_file(folder)
    else:
        raise CheckpointError(f'{folder}: unsupported pipeline class {class_name!r}: expected '
                              f"{MultiViewPipeline.__name__!r} or ['<module>', '<Class>'] with "
                              f'<module>.py in the folder (Zero123++ style)')
    try:
        pipe = pipeline_class.from_pretrained(str(folder), local_files_only=True,
                                              trust_remote_code=trust_code)
    except (OSError, ValueError, TypeError, AttributeError, ImportError) as e:
        raise CheckpointError(f'{folder}: loading the diffusers pipeline failed: {e}') from e
    return pipe.to(device), layout or own_layout(pipe)


def own_layout(pipe) -> ViewLayout:
    """Return the `ViewLayout` of our `MultiViewPipeline` ``pipe`` (from its config)."""
    return ViewLayout(tuple(pipe.config.offsets_deg), elevation_argument='elevation_deg')


def _layout_file(folder: Path) -> ViewLayout:
    data = _json_file(folder / LAYOUT_FILE, f'a pipeline that is not ours needs {LAYOUT_FILE} '
                      "with its views' offsets_deg, elevations_deg, rows, cols and fov_deg")
    try:
        return from_dict(ViewLayout, data, str(folder / LAYOUT_FILE))
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f'{folder / LAYOUT_FILE}: {e}') from e


@dataclass
class PipelineGenerator:
    """A `MultiViewGenerator` over a Zero123++-style diffusers pipeline (ours or a user's)."""

    pipe: Any  # a diffusers DiffusionPipeline called as pipe(image, ...).images[0]
    layout: ViewLayout
    steps: int = 0  # denoising steps; 0: the pipeline's default
    seed: int = 0  # the initial noise's seed, the same for every frame
    prior: 'RenderedPrior | None' = None  # the prior views' maker, for our models with a prior

    def generate(self, view: torch.Tensor, camera: Cameras) -> GeneratedViews:
        """
        Generate the layout's K views of ``view`` (3, H, W) in [0, 1] from ``camera``.

        The views come back at H x W (resized from the pipeline's size), with their cameras
        and, with a prior, the prior views (H x W) they were generated from.
        """
        cameras = target_cameras(camera, self.layout)
        h, w = view.shape[-2:]
        pixels = view.detach().clamp(0.0, 1.0).mul(255.0).round().byte().permute(1, 2, 0)
        kwargs: dict[str, Any] = {'num_inference_steps': self.steps} if self.steps else {}
        if self.layout.elevation_argument:
            kwargs[self.layout.elevation_argument] = float(elevation_deg(camera)[0])
        prior = None
        if self.prior is not None:
            size = self.pipe.image_size
            prior = self.prior.views(view.detach(), camera, cameras)
            kwargs['prior_views'] = _resized(prior, size, size)[None]
        grid = self.pipe(Image.fromarray(pixels.cpu().numpy()),
                         generator=torch.Generator().manual_seed(self.seed), **kwargs).images[0]
        tiles = torch.from_numpy(np.asarray(grid.convert('RGB')).copy()).permute(2, 0, 1)
        rows, cols = self.layout.rows, self.layout.columns
        if tiles.shape[1] % rows or tiles.shape[2] % cols:
            raise CheckpointError(f'pipeline output: a {tiles.shape[1]}x{tiles.shape[2]} image '
                                  f'does not split into the layout grid {rows} x {cols}')
        tiles = tiles.float().div(255.0).unflatten(1, (rows, -1)).unflatten(3, (cols, -1))
        images = tiles.permute(1, 3, 0, 2, 4).flatten(0, 1)  # (K, 3, h, w), row-major
        return GeneratedViews(_resized(images, h, w).to(view.device), cameras,
                              None if prior is None else prior.to(view.device))


def _resized(images: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Return images (K, 3, h', w') in [0, 1] resized to h x w (antialiased bilinear)."""
    if tuple(images.shape[-2:]) == (h, w):
        return images
    return F.interpolate(images, size=(h, w), mode='bilinear', align_corners=False,
                         antialias=True).clamp(0.0, 1.0)


def load_generator(path: str | Path, device: torch.device | str = 'cpu', steps: int = 0,
                   seed: int = 0, trust_code: bool = False) -> PipelineGenerator:
    """
    Load the generator at ``path``: our ``.safetensors`` checkpoint or a pipeline folder.

    ``steps`` 0 leaves the number of denoising steps to the pipeline (ours: the
    checkpoint's ``sample_steps``); ``trust_code`` as in `load_local_pipeline`. Our model with
    a prior comes with it (its LRM loaded on ``device``).
    """
    from lim_ros.monocular.pipeline import MultiViewPipeline
    from lim_ros.monocular.prior import load_prior

    path = Path(path)
    pipe: object
    if path.suffix == '.safetensors':
        pipe = MultiViewPipeline.from_checkpoint(path).to(device)
        layout = own_layout(pipe)
    else:
        pipe, layout = load_local_pipeline(path, device, trust_code)
    prior = None
    if isinstance(pipe, MultiViewPipeline) and pipe.config['prior'] != 'none':
        prior = load_prior(pipe.config['prior_lrm'], pipe.config['prior_grid'], device)
    return PipelineGenerator(pipe, layout, steps, seed, prior)


def _json_file(path: Path, why: str) -> dict:
    if not path.is_file():
        raise CheckpointError(f'{path}: missing ({why})')
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise CheckpointError(f'{path}: not readable JSON ({e})') from e
    if not isinstance(data, dict):
        raise CheckpointError(f'{path}: expected a JSON object, got {type(data).__name__}')
    return data
