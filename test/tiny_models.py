"""The smallest model configs, so tests of real models stay fast."""

from lim_ros.models.lim import LIMConfig
from lim_ros.models.lrm import LRMConfig
from lim_ros.models.multiview_diffusion import MVDiffusionConfig

TINY_LRM = LRMConfig(image_size=32, patch_size=8, encoder_dim=32, encoder_depth=1, dim=32,
                     depth=2, heads=2, token_resolution=4, upsample=2, plane_channels=8,
                     depth_samples=4, projection_channels=8, decoder_hidden=16,
                     decoder_layers=2)

TINY_LIM = LIMConfig.for_lrm(TINY_LRM, depth=2, heads=2, alpha_frequencies=3)

TINY_MVDIFF = MVDiffusionConfig(image_size=32, block_channels=(8, 16), attention_levels=1,
                                attention_head_dim=8, sample_steps=3)
