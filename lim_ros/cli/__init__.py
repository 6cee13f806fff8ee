"""The ``lim-ros`` command line, for machines with or without ROS."""
