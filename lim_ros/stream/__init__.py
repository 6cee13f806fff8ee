"""Camera streams → keyframes: the static rig, rates and frame synchronisation (no ROS)."""
