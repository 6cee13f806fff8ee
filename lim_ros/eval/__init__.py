"""Evaluation of the models against ground truth and classical references."""
