"""Synthetic 4D world: procedural dynamic objects with exact ground truth (no ROS import)."""
