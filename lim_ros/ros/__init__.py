"""
The ROS 2 wiring of lim_ros: the only package that imports rclpy and message packages.

`lim_node` is the node (entry point ``lim_node``); `parameters` declares its parameters from
the core's config dataclasses; `camera_input`, `keyframe_worker`, `outputs`, `diagnostics`
and `tf_poses` each do one job for it. Nothing here computes: the work is the engine's.
"""
