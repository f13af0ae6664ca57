"""Weights for parity tests that exercise every layer, BatchNorm's moving statistics included."""

from __future__ import annotations

import numpy as np


def with_batchnorm_statistics(model, rng: np.random.Generator) -> list[np.ndarray]:
    """``model``'s weights with its BatchNorm moving means and variances drawn from ``rng`` (a freshly built
    model has zeros and ones there, which inference-mode parity would not test)."""
    weights = model.get_weights()
    for index, weight in enumerate(model.weights):
        if "moving_variance" in weight.path:
            weights[index] = rng.uniform(0.5, 2.0, weight.shape).astype("float32")
        elif "moving_mean" in weight.path:
            weights[index] = rng.normal(0, 0.1, weight.shape).astype("float32")
    return weights
