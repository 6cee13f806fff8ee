"""Benchmarks run by ``lim-ros bench``: each prints a table and writes JSON."""
