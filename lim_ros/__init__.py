"""
lim_ros: live 4D reconstruction (LRM triplanes interpolated in time by LIM) for ROS 2.

The core (everything outside ``lim_ros.ros``) imports neither rclpy nor message packages.
"""

__version__ = '0.1.0'
