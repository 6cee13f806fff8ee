"""Interpolation baselines that work in image space (LIM works in triplane space)."""
