"""The fixed reference workload timed in between benchmark rounds.

Absolute times on a shared machine drift by tens of percent between runs; the
ratio of a benchmark's round time to the reference's neighbouring round time
drifts much less, because both feel the same machine at the same moment.  The
reference is a small conv net's train step, so it exercises the same kernels and
framework overhead as the models.  Change it only with a new
REFERENCE_VERSION (and a refreshed baseline): ratios are only comparable
between runs with the same version.
"""

from __future__ import annotations

import time

import keras
import numpy as np

REFERENCE_VERSION = 1
REFERENCE_BATCH = 64


class ReferenceWorkload:
    """A compiled train step of a fixed small model; :meth:`time_once` runs and times one step."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.images = rng.random((REFERENCE_BATCH, 28, 28, 1), dtype=np.float32)
        self.labels = rng.integers(0, 10, REFERENCE_BATCH)
        init = keras.initializers.GlorotUniform(seed=seed)
        self.model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init),
                keras.layers.Conv2D(32, 3, padding="same", activation="relu", kernel_initializer=init),
                keras.layers.MaxPooling2D(2),
                keras.layers.Flatten(),
                keras.layers.Dense(10, kernel_initializer=init),
            ],
            name="reference",
        )
        self.model.compile(
            optimizer=keras.optimizers.SGD(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        self.times: list[float] = []
        for _ in range(3):  # trace and warm up
            self.model.train_on_batch(self.images, self.labels)

    def time_once(self) -> float:
        """Run one reference step, record and return its wall time in seconds."""
        start = time.perf_counter()
        float(self.model.train_on_batch(self.images, self.labels))
        elapsed = time.perf_counter() - start
        self.times.append(elapsed)
        return elapsed

    def take_times(self) -> list[float]:
        """The times recorded since the last call, clearing them."""
        times, self.times = self.times, []
        return times
