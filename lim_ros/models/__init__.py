"""Neural models (triplanes, LRM, LIM) and their safetensors checkpoints."""
