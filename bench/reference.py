"""The fixed reference workload timed in between benchmark rounds: the native ``cnn``, no Keras.

Even as CPU time, a round on this shared machine runs up to a third slower while the
host is busy, in spells of seconds.  A reference round run just before each timed
round feels the same spell; dividing by it leaves what the model itself costs.  The
reference is the tutorial's Conv-BatchNorm-ReLU network written natively in the
backend's own framework (:mod:`implementations.native`): the same kernels and memory
traffic as the models, so it feels the host the way they do, but no Keras code, so a
slower Keras (a layer's ``call``, the training step, the optimizer) is not cancelled.
A change in the framework's own kernels moves both and cancels in the normalized
time; :mod:`bench.compare` reports it from the absolute times.

Each kind of benchmark has its own reference path: a train step, a batched predict, a
batch-1 predict.  Change them only with a new REFERENCE_VERSION (and refreshed
baselines): ratios are only comparable between runs with the same version.
"""

from __future__ import annotations

import numpy as np

from bench.backend_ops import backend_name
from bench.timing import RoundClock
from implementations import native

REFERENCE_VERSION = 4
TRAIN = "train"
PREDICT = "predict"
LATENCY = "latency"


class ReferenceWorkload:
    """The backend's native ``cnn`` with one step per benchmark kind; :meth:`time_once` times one."""

    def __init__(self, *, train_batch: int, predict_batch: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.framework = backend_name()
        self.model = native.build("cnn", self.framework, seed=seed)
        images = rng.random((max(train_batch, predict_batch), 28, 28, 1), dtype=np.float32)
        labels = rng.integers(0, 10, len(images))
        self._clocks = {
            TRAIN: RoundClock(lambda: self.model.train_step(images[:train_batch], labels[:train_batch])),
            PREDICT: RoundClock(lambda: self.model.predict(images[:predict_batch])),
            LATENCY: RoundClock(lambda: self.model.predict(images[:1])),
        }
        for clock in self._clocks.values():  # trace and warm up every path
            for _ in range(3):
                clock.step()

    def time_once(self, kind: str = TRAIN) -> None:
        """Run and time one reference step of ``kind``."""
        self._clocks[kind]()

    def take_times(self, kind: str, count: int) -> tuple[list[float], list[float]]:
        """(CPU, wall) seconds of the last ``count`` steps of ``kind``; clears every record."""
        times = self._clocks[kind].take(count)
        for clock in self._clocks.values():
            clock.take(0)
        return times
