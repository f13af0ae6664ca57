"""The fixed reference workloads timed in between benchmark rounds.

Absolute times on a shared machine drift by tens of percent between runs; a
benchmark's round times divided by the fastest reference round interleaved with
them drift much less, because both feel the same machine in the same minutes.  The
reference is a frozen copy of the tutorial's Conv-BatchNorm-ReLU network, written
here and never changed with the implementations, so that it has the same size,
kernels and framework overheads as the models and feels the machine's states the
way they do (a much smaller reference was seen to swing on its own).  Each kind of
benchmark has its own reference path: a compiled train step, a batched predict,
a batch-1 predict.  Change them only
with a new REFERENCE_VERSION (and a refreshed baseline): ratios are only
comparable between runs with the same version.
"""

from __future__ import annotations

import time

import keras
import numpy as np

REFERENCE_VERSION = 3
TRAIN = "train"
PREDICT = "predict"
LATENCY = "latency"


class ReferenceWorkload:
    """A small fixed model with one timed step per benchmark kind; :meth:`time_once` times one."""

    def __init__(self, *, train_batch: int, predict_batch: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        init = keras.initializers.GlorotUniform(seed=seed)
        self.model = keras.Sequential(
            [
                keras.Input((28, 28, 1)),
                *[
                    layer
                    for filters in (32, 64, 128)
                    for layer in (
                        keras.layers.Conv2D(filters, 3, padding="same", kernel_initializer=init),
                        keras.layers.BatchNormalization(),
                        keras.layers.ReLU(),
                    )
                ],
                keras.layers.Flatten(),
                keras.layers.Dense(10, kernel_initializer=init),
            ],
            name="reference",
        )
        self.model.compile(
            optimizer=keras.optimizers.Adam(1e-3),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
        images = rng.random((max(train_batch, predict_batch), 28, 28, 1), dtype=np.float32)
        labels = rng.integers(0, 10, len(images))
        self._steps = {
            TRAIN: lambda: float(self.model.train_on_batch(images[:train_batch], labels[:train_batch])),
            PREDICT: lambda: np.asarray(self.model.predict_on_batch(images[:predict_batch])),
            LATENCY: lambda: np.asarray(self.model.predict_on_batch(images[:1])),
        }
        self.times: list[float] = []
        for step in self._steps.values():  # trace and warm up every path
            for _ in range(3):
                step()

    def time_once(self, kind: str = TRAIN) -> float:
        """Run one reference step of ``kind``; record and return its wall time in seconds."""
        step = self._steps[kind]
        start = time.perf_counter()
        step()
        elapsed = time.perf_counter() - start
        self.times.append(elapsed)
        return elapsed

    def take_times(self) -> list[float]:
        """The times recorded since the last call, clearing them."""
        times, self.times = self.times, []
        return times
