"""Accuracy of every (arch, api) with the tutorial's recipe: per-epoch log and time to the target.

Named to run after the speed benchmarks, so training time here never overlaps them.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

from bench.run import backend_ops
from bench.run.steps import NATIVE, effective_jit, recalibrate_batchnorm, timed_model
import implementations
from bench.suite.conftest import TIMED_CELLS, deadline, uses_profile_data


class EpochLog(keras.callbacks.Callback):
    """Evaluates on the test split after every epoch; training wall time excludes evaluation."""

    def __init__(self, test_images, test_labels, batch_size: int, *, recalibrate_on=None, batches: int = 0):
        super().__init__()
        self.test = (test_images, test_labels)
        self.recalibrate_on, self.recalibration_batches = recalibrate_on, batches
        self.recalibrated_with = 0
        self.batch_size = batch_size
        self.epochs: list[dict] = []
        self.training_s = 0.0

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.training_s += time.perf_counter() - self._start
        limit = deadline()
        if limit is not None and time.time() > limit:
            self.model.stop_training = True  # keep what was measured; the log says it stopped early
        if self.recalibration_batches:
            self.recalibrated_with = recalibrate_batchnorm(
                self.model,
                self.recalibrate_on,
                batches=self.recalibration_batches,
                batch_size=self.batch_size,
            )
        scores = self.model.evaluate(*self.test, batch_size=256, verbose=0, return_dict=True)
        self.epochs.append(
            {
                "epoch": epoch + 1,
                "train_loss": float(logs["loss"]),
                "train_accuracy": _accuracy(logs),
                "test_loss": float(scores["loss"]),
                "test_accuracy": _accuracy(scores),
                "training_s": self.training_s,
            }
        )


def _accuracy(scores: dict) -> float:
    """The accuracy among a fit's or an evaluation's figures (a model of several outputs: their mean)."""
    found = [float(value) for key, value in scores.items() if key == "accuracy" or key.endswith("_accuracy")]
    return float(np.mean(found)) if found else float("nan")


class NativeTraining:
    """The native model's own training loop, with the Keras cells' recipe: shuffled batches (numpy,
    seeded), the last one partial as in ``fit``; BatchNorm recalibrated on the first training batches and
    the test split evaluated after every epoch; training wall time excludes both."""

    def __init__(self, model, test_images, test_labels, batch_size: int, *, recalibrate_on, batches: int):
        self.model, self.test, self.batch_size = model, (test_images, test_labels), batch_size
        self.recalibrate_on, self.recalibration_batches = recalibrate_on, batches
        self.recalibrated_with = 0
        self.epochs: list[dict] = []
        self.training_s = 0.0

    def fit(self, images, labels, *, epochs: int, seed: int) -> None:
        order_of = np.random.default_rng(seed)
        for epoch in range(epochs):
            start = time.perf_counter()
            order = order_of.permutation(len(images))
            losses = [
                self.model.train_step(images[chunk], labels[chunk])
                for chunk in np.array_split(order, range(self.batch_size, len(order), self.batch_size))
            ]
            self.training_s += time.perf_counter() - start
            self._evaluate(epoch, float(np.mean(losses)))
            limit = deadline()
            if limit is not None and time.time() > limit:
                break  # keep what was measured; the log says it stopped early

    def _evaluate(self, epoch: int, train_loss: float) -> None:
        count = min(self.recalibration_batches, len(self.recalibrate_on) // self.batch_size)
        if count:
            size = self.batch_size
            self.model.recalibrate_batchnorm(
                [self.recalibrate_on[i * size : (i + 1) * size] for i in range(count)]
            )
            self.recalibrated_with = count
        images, labels = self.test
        logits = np.concatenate([self.model.predict(images[i : i + 256]) for i in range(0, len(images), 256)])
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        self.epochs.append(
            {
                "epoch": epoch + 1,
                "train_loss": train_loss,
                "train_accuracy": None,  # the native steps return the loss only
                "test_loss": float(-log_probs[np.arange(len(labels)), labels].mean()),
                "test_accuracy": float((logits.argmax(axis=1) == labels).mean()),
                "training_s": self.training_s,
            }
        )


def _own_data(arch: str, profile) -> dict:
    """A models file's ``data()``, cut to the profile's subsets, in the layout of the ``dataset`` fixture."""
    chosen = implementations.model_set(arch)
    if chosen.data is None:
        pytest.skip(f"n/a: the models file of {arch} defines no data() to train and test on")
    try:
        (x_train, y_train), (x_test, y_test) = chosen.data()
    except Exception as error:
        raise RuntimeError(f"{chosen.origin}: data() raised {type(error).__name__}: {error}") from None

    def cut(x, count):
        return x if not count else keras.tree.map_structure(lambda a: np.asarray(a)[:count], x)

    return {"name": f"{arch}: data()", "train": (cut(x_train, profile.train_subset),
                                                 cut(y_train, profile.train_subset)),
            "test": (cut(x_test, profile.test_subset), cut(y_test, profile.test_subset))}  # fmt: skip


@pytest.mark.parametrize(("arch", "api"), TIMED_CELLS)
def test_accuracy(benchmark, profile, request, arch, api):
    if profile.accuracy_apis is not None and api not in profile.accuracy_apis:
        pytest.skip(
            f"n/a: the {profile.name} profile measures accuracy with {', '.join(profile.accuracy_apis)} only "
            "(the parity tests hold every API to the same training trajectory)"
        )
    if not uses_profile_data(arch) and implementations.model_set(arch).accuracy_metrics is None:
        pytest.skip("n/a: no output's labels are class ids (integers): accuracy does not apply")
    dataset = request.getfixturevalue("dataset") if uses_profile_data(arch) else _own_data(arch, profile)
    if profile.deterministic:
        backend_ops.make_deterministic(profile.seed)
    (x_train, y_train), (x_test, y_test) = dataset["train"], dataset["test"]
    batch = profile.accuracy_batch or profile.train_batch
    model = timed_model(arch, api, profile)  # a native cell starts from the Functional model's weights
    if api == NATIVE:
        log = NativeTraining(model, x_test, y_test, batch, recalibrate_on=x_train,
                             batches=profile.bn_recalibration_batches)  # fmt: skip

        def train():
            log.fit(x_train, y_train, epochs=profile.epochs_for(arch), seed=profile.seed)

    else:
        log = EpochLog(x_test, y_test, batch, recalibrate_on=x_train,
                       batches=profile.bn_recalibration_batches if uses_profile_data(arch) else 0)  # fmt: skip

        def train():
            model.fit(
                x_train,
                y_train,
                batch_size=batch,
                epochs=profile.epochs_for(arch),
                shuffle=True,
                callbacks=[log],
                verbose=0,
            )

    benchmark.pedantic(train, rounds=1, iterations=1)
    stopped_early = len(log.epochs) < profile.epochs_for(arch)
    assert log.epochs and (len(log.epochs) == profile.epochs_for(arch) or deadline() is not None)
    final = log.epochs[-1]["test_accuracy"]
    assert np.isfinite(log.epochs[-1]["train_loss"])
    target = profile.target_for(arch, dataset["name"])
    reached = next((e for e in log.epochs if target is not None and e["test_accuracy"] >= target), None)
    benchmark.extra_info.update(
        {
            "dataset": dataset["name"],
            "train_images": int(len(y_train)),
            "test_images": int(len(y_test)),
            "batch": batch,
            "epochs": len(log.epochs),
            "epochs_planned": profile.epochs_for(arch),
            "stopped_early": "time budget spent" if stopped_early else None,
            "seed": profile.seed,
            "deterministic": profile.deterministic,
            "backend": backend_ops.backend_name(),
            "device": backend_ops.accelerator() or "CPU",
            "jit": effective_jit(model),
            "mixed_precision": profile.mixed_precision,
            "test_accuracy": final,
            "bn_recalibration_batches": log.recalibrated_with,
            "accuracy_target": target,
            "time_to_target_s": reached["training_s"] if reached else None,
            "epoch_log": log.epochs,
        }
    )
