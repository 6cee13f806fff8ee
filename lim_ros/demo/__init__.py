"""The ``lim-ros demo`` pipeline: scene bag → engine → output bag, meshes, previews, scores."""

from lim_ros.demo.pipeline import DemoConfig, DemoResult, monocular_settings, run_demo

__all__ = ['DemoConfig', 'DemoResult', 'monocular_settings', 'run_demo']
