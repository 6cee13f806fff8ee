"""Training loops, losses and their configs."""
