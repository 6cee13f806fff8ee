"""
The ROS-free runtime of lim_ros: keyframe buffer, LRM, interpolation, geometry extraction.

Start at `ReconstructionEngine` (documented Python API, used by the node and the bag tool).
"""

from lim_ros.engine.config import EngineConfig
from lim_ros.engine.engine import EngineStats, Reconstruction, ReconstructionEngine
from lim_ros.engine.extraction import PointCloud
from lim_ros.engine.volume import Volume

__all__ = ['EngineConfig', 'EngineStats', 'PointCloud', 'Reconstruction',
           'ReconstructionEngine', 'Volume']
