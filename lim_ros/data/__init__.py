"""Training data drawn from the synthetic world, and previews of it."""
