"""
Our multi-view diffusion model as a diffusers ``DiffusionPipeline``, Zero123++-style.

`MultiViewPipeline` holds the UNet and a DDIM scheduler, keeps the view offsets in its config
(``model_index.json``), and is called like a Zero123++ pipeline: one image in, one image out
that tiles the K views in a row (``output_type='pil'``), or a (B, K, 3, H, W) tensor
(``output_type='pt'``). ``save_pretrained`` / ``from_pretrained`` give the standard diffusers
folder layout (model_index.json, unet/, scheduler/), so our model goes through the same
local-loading code as a user's Zero123++ checkpoint. A model with a prior (``prior`` in its
config, see `lim_ros.models.multiview_diffusion`) is also given its K prior views
(``prior_views``); the config names the prior's LRM, so a loader can build it
(`lim_ros.monocular.prior.load_prior`).
"""

from pathlib import Path

# from their own modules: mypy reads diffusers' top-level names as its dummy placeholders
from diffusers.models.unets.unet_2d import UNet2DModel
from diffusers.pipelines.pipeline_utils import DiffusionPipeline, ImagePipelineOutput
from diffusers.schedulers.scheduling_ddim import DDIMScheduler
from einops import rearrange
from lim_ros.errors import ShapeError
from lim_ros.models.multiview_diffusion import (
    check_prior_views,
    load_multiview_diffusion,
    sample_views,
)
import numpy as np
from PIL import Image
import torch


class MultiViewPipeline(DiffusionPipeline):
    """One view (and its camera's elevation) → K views at fixed azimuth offsets."""

    def __init__(self, unet: UNet2DModel, scheduler: DDIMScheduler,
                 offsets_deg: list[float] | tuple[float, ...] = (90.0, 180.0, 270.0),
                 sample_steps: int = 25, prior: str = 'none', prior_lrm: str = '',
                 prior_grid: int = 48, sample_strength: float = 1.0) -> None:
        """
        Register the UNet, the scheduler, the K views' azimuths (degrees), default steps.

        ``prior``, ``prior_lrm``, ``prior_grid`` and ``sample_strength`` are the model
        config's fields (`lim_ros.models.multiview_diffusion.MVDiffusionConfig`).
        """
        super().__init__()
        self.register_modules(unet=unet, scheduler=scheduler)
        self.register_to_config(offsets_deg=[float(o) for o in offsets_deg],
                                sample_steps=int(sample_steps), prior=prior,
                                prior_lrm=prior_lrm, prior_grid=int(prior_grid),
                                sample_strength=float(sample_strength))

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> 'MultiViewPipeline':
        """Build the pipeline of a `MultiViewDiffusion` safetensors checkpoint."""
        model = load_multiview_diffusion(path)
        c = model.config
        return cls(model.unet, model.sampling_scheduler(), c.offsets_deg, c.sample_steps,
                   c.prior, c.prior_lrm, c.prior_grid, c.sample_strength)

    @property
    def image_size(self) -> int:
        """Return the side of the square views the UNet works on, pixels."""
        return int(self.unet.config.sample_size)

    @torch.no_grad()
    def __call__(self, image: Image.Image | torch.Tensor,
                 elevation_deg: float | torch.Tensor = 0.0,
                 num_inference_steps: int | None = None,
                 generator: torch.Generator | None = None,
                 output_type: str = 'pil',
                 prior_views: torch.Tensor | None = None) -> ImagePipelineOutput:
        """
        Generate the K views of ``image`` seen from a camera at ``elevation_deg`` degrees.

        ``image`` is a PIL image or a (B, 3, H, W) tensor in [0, 1] of the UNet's size; the
        initial noise is drawn on the CPU from ``generator`` (the same seed gives the same
        views); ``num_inference_steps`` DDIM steps (default: the config's ``sample_steps``).
        ``output_type`` 'pil': one image per input, the K views side by side; 'pt': a
        (B, K, 3, H, W) tensor in [0, 1]. ``prior_views`` (B, K, 3, H, W) in [0, 1]: the prior
        views, required exactly when the config has a prior.
        """
        if output_type not in ('pil', 'pt'):
            raise ShapeError(f"output_type: expected 'pil' or 'pt', got {output_type!r}")
        size = self.image_size
        if isinstance(image, Image.Image):
            array = np.asarray(image.convert('RGB').resize(
                (size, size), Image.BILINEAR))  # type: ignore[attr-defined]  # exists at run time
            image = torch.from_numpy(array.copy()).permute(2, 0, 1)[None].float() / 255.0
        if image.ndim != 4 or tuple(image.shape[1:]) != (3, size, size):
            raise ShapeError(f'image: expected a PIL image or shape (B, 3, {size}, {size}), '
                             f'got {tuple(image.shape)}')
        b = image.shape[0]
        k = len(self.config['offsets_deg'])
        check_prior_views(self.config['prior'], prior_views, b, k, size)
        if prior_views is not None:
            prior_views = prior_views.to(self.unet.device)
        elevation = torch.as_tensor(elevation_deg, dtype=torch.float32).expand(b)
        noise = torch.randn(b, 3 * k, size, size, generator=generator)
        device = self.unet.device
        views = sample_views(self.unet, self.scheduler, image.to(device), elevation.to(device),
                             noise.to(device),
                             num_inference_steps or self.config['sample_steps'],
                             prior_views, self.config['sample_strength']).float().cpu()
        if output_type == 'pt':  # diffusers annotates the images as PIL or NumPy only
            return ImagePipelineOutput(images=views)  # type: ignore[arg-type]
        rows = rearrange(views, 'b k c h w -> b h (k w) c').mul(255.0).round().byte().numpy()
        return ImagePipelineOutput(images=[Image.fromarray(row) for row in rows])
