"""Measuring: supervised runs and their interruption, timing and partner rounds, the native reference,
train and predict steps, top-ups, datasets, the recorded environment, backend operations."""
