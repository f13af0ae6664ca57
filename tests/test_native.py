"""The native models are the Keras models: same logits from the same weights, same training losses.

The native ``cnn`` of the backend is the benchmarks' timing reference, so these tests also
guard that the reference computes what the models compute.
"""

from __future__ import annotations

import functools
import importlib.util

import keras
import numpy as np
import pytest

import implementations
from bench.run.datasets import load
from bench.run.steps import recalibrate_batchnorm
from implementations import native
from tests.support import other_backends

EXPECTED_PARAMS = {"cnn": 1_097_098, "resnet": 2_400_490}
LOGIT_TOLERANCE = 1e-4
LOSS_TOLERANCE = 1e-3  # relative: the loss before and after the first Adam step
# Later steps and inference after training are compared against what rounding alone does to the same
# training on this host: the Keras model is trained a second time from weights one float32 rounding away, and
# the native model may differ from Keras by SPREAD times that (never less than the floors).  Rounding is
# amplified by the training itself (the resnet's loss jumps 2.8 -> 4.1 -> 2.1 and Adam divides by the root of tiny second
# moments), by an amount that depends on the CPU's kernels: docs/method.md, "Native parity".
LATER_LOSS_TOLERANCE = 5e-3
AFTER_TRAINING_TOLERANCE = 1e-2
SPREAD = 20
ROUNDING = 2.0**-24  # one float32 rounding, relative
RECALIBRATION_TOLERANCE = 2e-3  # relative to the largest logit
STEPS = 5


@functools.cache
def _batches():
    (images, labels), _ = load("mnist-5k")
    return [(images[i * 32 : (i + 1) * 32], labels[i * 32 : (i + 1) * 32]) for i in range(STEPS)]


def _keras_model(arch: str, api: str) -> keras.Model:
    model = implementations.build(arch, api, seed=7)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    return model


def _native(arch: str, framework: str):
    try:
        return native.build(arch, framework, seed=0)
    except native.NotInstalled as missing:
        pytest.skip(str(missing))


# Each (arch, framework) loads its weights from another API in turn; the parity tests make the APIs' weights,
# outputs and training identical, so every API is covered without running all nine pairs per arch.
CASES = [
    pytest.param(arch, framework, implementations.APIS[index % 3], id=f"{arch}-{framework}")
    for arch in native.NATIVE_ARCHS
    for index, framework in enumerate(native.FRAMEWORKS)
]


def parity_figures(arch: str, framework: str, api: str) -> dict:
    """Native model vs the Keras model on the same framework (this process's Keras backend).

    One Keras model and one native model serve every phase, set back to their starting weights (and the Keras
    optimizer to its starting state) between phases, so that nothing is built or compiled twice."""
    keras_model, model = _keras_model(arch, api), native.build(arch, framework, seed=0)
    model.load_keras_weights(keras_model)
    images = _batches()[0][0]
    logits_difference = float(
        np.abs(model.predict(images) - np.asarray(keras_model.predict_on_batch(images))).max()
    )
    initial = keras_model.get_weights()
    optimizer = keras_model.optimizer
    optimizer.build(keras_model.trainable_variables)
    optimizer_initial = [np.array(v) for v in optimizer.variables]
    keras_losses = [float(np.asarray(keras_model.train_on_batch(x, y))) for x, y in _batches()]
    native_losses = [model.train_step(x, y) for x, y in _batches()]
    after = np.asarray(keras_model.predict_on_batch(images))
    native_after = model.predict(images)
    # the same Keras training from weights one float32 rounding away: how far rounding alone carries it here
    rng = np.random.default_rng(0)
    keras_model.set_weights([w * (1 + rng.choice([-1.0, 1.0], w.shape) * ROUNDING) for w in initial])
    for variable, value in zip(optimizer.variables, optimizer_initial, strict=True):
        variable.assign(value)
    nudged_losses = [float(np.asarray(keras_model.train_on_batch(x, y))) for x, y in _batches()]
    nudged_after = np.asarray(keras_model.predict_on_batch(images))
    # BatchNorm recalibration (what the accuracy runs do before each evaluation), from the starting weights
    keras_model.set_weights(initial)
    model.load_keras_weights(keras_model)
    recalibration = [x for x, _ in _batches()]
    recalibrate_batchnorm(keras_model, np.concatenate(recalibration), batches=STEPS, batch_size=32)
    model.recalibrate_batchnorm(recalibration)
    recalibrated = np.asarray(keras_model.predict_on_batch(images))
    recalibrated_difference = np.abs(model.predict(images) - recalibrated).max() / np.abs(recalibrated).max()
    return {
        "backend": keras.backend.backend(),
        "logits_difference": logits_difference,
        "recalibrated_difference": float(recalibrated_difference),
        "keras_losses": keras_losses,
        "native_losses": native_losses,
        "after_training_difference": float(np.abs(native_after - after).max() / np.abs(after).max()),
        "rounding_losses": nudged_losses,
        "rounding_after_difference": float(np.abs(nudged_after - after).max() / np.abs(after).max()),
    }


@pytest.mark.parametrize(("arch", "framework", "api"), CASES)
def test_native_logits_and_training_match_keras(arch, framework, api, tmp_path):
    """Compared with Keras running on the same framework, so both use the same kernels."""
    if importlib.util.find_spec(framework) is None:
        pytest.skip(f"n/a: {framework} not installed")
    if framework == keras.backend.backend():
        figures = parity_figures(arch, framework, api)
    else:
        figures = other_backends.figures(framework, "native")[arch]
    assert figures["backend"] == framework
    assert figures["logits_difference"] < LOGIT_TOLERANCE
    # torch keeps the unbiased batch variance, Keras the biased one: a few 1e-4 relative at 3x3 maps
    assert figures["recalibrated_difference"] < RECALIBRATION_TOLERANCE
    native, keras_, rounded = (np.asarray(figures[f"{k}_losses"]) for k in ("native", "keras", "rounding"))
    np.testing.assert_allclose(native[:2], keras_[:2], rtol=LOSS_TOLERANCE)
    envelope = np.maximum.accumulate(np.abs(rounded - keras_) / np.abs(keras_))  # rounding's reach so far
    allowed = np.maximum(LATER_LOSS_TOLERANCE, SPREAD * envelope)
    difference = np.abs(native - keras_) / np.abs(keras_)
    assert (difference <= allowed).all(), f"loss differences {difference} beyond rounding's {allowed}"
    # the moving statistics follow Keras' momentum: inference after training agrees as far as rounding allows
    after_allowed = max(AFTER_TRAINING_TOLERANCE, SPREAD * figures["rounding_after_difference"])
    assert figures["after_training_difference"] <= after_allowed


@pytest.mark.parametrize("framework", list(native.FRAMEWORKS))
@pytest.mark.parametrize("arch", list(native.NATIVE_ARCHS))
def test_native_counts_parameters_as_keras_does(arch, framework):
    assert _native(arch, framework).count_params() == EXPECTED_PARAMS[arch]


@pytest.mark.parametrize("framework", list(native.FRAMEWORKS))
def test_the_compile_switch_is_what_the_model_reports(framework):
    try:
        plain, compiled = (native.build("cnn", framework, seed=0, compiled=flag) for flag in (False, True))
    except native.NotInstalled as missing:
        pytest.skip(str(missing))
    # XLA for tf.function, torch.compile for PyTorch; JAX's steps are always under jax.jit
    assert (plain.jit_compile, compiled.jit_compile) == (
        (True, True) if framework == "jax" else (False, True)
    )


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown framework"):
        native.build("cnn", "mxnet")
    with pytest.raises(ValueError, match="no native"):
        native.build("vgg", "torch")


def figures_on_this_backend(framework: str) -> dict[str, dict]:
    """{arch: parity figures} of every case on ``framework``, which is this process's Keras backend (run by
    tests/support/other_backends.py for the frameworks other than the tests' own)."""
    cases = [case.values for case in CASES]
    return {arch: parity_figures(arch, framework, api) for arch, on, api in cases if on == framework}
