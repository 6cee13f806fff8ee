"""Rendering of ground-truth world objects."""
