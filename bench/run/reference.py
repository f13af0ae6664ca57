"""The fixed reference workload timed in between benchmark rounds: the native ``cnn``, no Keras.

Even as CPU time, a round on this shared machine runs up to a third slower while the
host is busy, in spells of seconds.  A reference round run just before each timed
round feels the same spell; dividing by it leaves what the model itself costs.  The
reference is the tutorial's Conv-BatchNorm-ReLU network written natively in the
backend's own framework (:mod:`implementations.native`): the same kernels and memory
traffic as the models, so it feels the host the way they do, but no Keras code, so a
slower Keras (a layer's ``call``, the training step, the optimizer) is not cancelled.
A change in the framework's own kernels moves both and cancels in the normalized
time; :mod:`bench.check.compare` reports it from the absolute times.

Each kind of benchmark has its own reference path: a train step, a batched predict, a
batch-1 predict.

For comparing the APIs with each other (the report's question) the quick and full
profiles pair each round with the same architecture's Functional model instead
(:class:`FunctionalPartner`): same kernels, same input, so a round divided by the
partner rounds around it is the API's own cost relative to Functional, free of the
host's spells.  The Functional model has no timed cell of its own there: its partner
rounds are its rounds, and each divided by the partner rounds around it is an A/A
that shows what the pairing leaves (:func:`bench.core.results.partner_rows`).  Change them
only with a new REFERENCE_VERSION (and refreshed baselines): ratios are only comparable
between runs with the same version.
"""

from __future__ import annotations

import numpy as np

from bench.run.backend_ops import backend_name
from bench.run.timing import RoundClock
from implementations import native

REFERENCE_VERSION = 4
TRAIN = "train"
PREDICT = "predict"
LATENCY = "latency"


#: the Profile.partner value that pairs every timed round with the Functional model (else: the reference)
FUNCTIONAL_PARTNER = "functional"


class _Pacer:
    """Times one step of each kind on demand; the base of both partners of a timed round."""

    name = ""

    def __init__(self, steps: dict) -> None:
        self._clocks = {kind: RoundClock(step) for kind, step in steps.items()}
        for clock in self._clocks.values():  # trace and warm up every path
            for _ in range(3):
                clock.step()

    def time_once(self, kind: str = TRAIN) -> None:
        """Run and time one step of ``kind``."""
        self._clocks[kind]()

    def take_times(self, kind: str, count: int) -> tuple[list[float], list[float]]:
        """(CPU, wall) seconds of the last ``count`` steps of ``kind``; clears every record."""
        times = self._clocks[kind].take(count)
        for clock in self._clocks.values():
            clock.take(0)
        return times


class ReferenceWorkload(_Pacer):
    """The backend's native ``cnn`` with one step per benchmark kind; :meth:`time_once` times one."""

    name = "native-cnn"

    def __init__(self, *, train_batch: int, predict_batch: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.framework = backend_name()
        self.model = native.build("cnn", self.framework, seed=seed)
        images = rng.random((max(train_batch, predict_batch), 28, 28, 1), dtype=np.float32)
        labels = rng.integers(0, 10, len(images))
        super().__init__(
            {
                TRAIN: lambda: self.model.train_step(images[:train_batch], labels[:train_batch]),
                PREDICT: lambda: self.model.predict(images[:predict_batch]),
                LATENCY: lambda: self.model.predict(images[:1]),
            }
        )


class FunctionalPartner(_Pacer):
    """The partner model of ``arch`` (Functional, or a models file's first API without it), compiled like
    every cell, stepping on the cells' own batches."""

    def __init__(self, arch: str, profile, *, train_batch, predict_images) -> None:
        import implementations
        from bench.run.steps import compiled_model, first_examples, inference_step, train_step

        partner = implementations.model_set(arch).partner
        self.name = f"{arch}-{partner}"
        self.model = compiled_model(arch, partner, profile)
        images, labels = train_batch
        super().__init__(
            {
                TRAIN: train_step(self.model, images, labels),
                PREDICT: inference_step(self.model, predict_images),
                LATENCY: inference_step(self.model, first_examples(predict_images, 1)),
            }
        )
