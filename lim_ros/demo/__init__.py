"""The ``lim-ros demo`` pipeline: scene bag → engine → output bag, meshes, previews, scores."""

from lim_ros.demo.pipeline import DemoConfig, DemoResult, run_demo

__all__ = ['DemoConfig', 'DemoResult', 'run_demo']
