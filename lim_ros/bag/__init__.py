"""
Rosbag2 in and out without ROS (rosbags): ``lim-ros bag`` and the demo's scene bags.

`load_parameters` reads the node's parameter file, `process_bag` runs the engine over a
camera bag and writes the node's outputs to a new bag, `write_scene_bag` records a
synthetic scene as a camera bag.
"""

from lim_ros.bag.params import load_parameters
from lim_ros.bag.process import BagJob, Output, process_bag
from lim_ros.bag.scene import SceneConfig, write_scene_bag
from lim_ros.bag.summary import BagSummary, ErrorTally

__all__ = ['BagJob', 'BagSummary', 'ErrorTally', 'load_parameters', 'Output', 'process_bag',
           'SceneConfig', 'write_scene_bag']
