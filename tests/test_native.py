"""The native models are the Keras models: same logits from the same weights, same training losses.

The native ``cnn`` of the backend is the benchmarks' timing reference, so these tests also
guard that the reference computes what the models compute.
"""

from __future__ import annotations

import functools

import keras
import numpy as np
import pytest

import implementations
from bench.datasets import load
from implementations import native

EXPECTED_PARAMS = {"cnn": 1_097_098, "resnet": 2_400_490}
LOGIT_TOLERANCE = 1e-4
LOSS_TOLERANCE = 1e-3  # relative, over five Adam steps, where the kernels are the same
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
# Over five Adam steps float32 rounding differences between one framework's convolutions and another's grow
# (Adam divides by the root of tiny second moments): the deeper resnet drifts ~1.3e-3 off Keras-on-TensorFlow
# on JAX and PyTorch, while the same kernels (TensorFlow) agree to 1e-6.
LOSS_TOLERANCE_ACROSS_KERNELS = {"cnn": LOSS_TOLERANCE, "resnet": 3e-3}


@pytest.mark.parametrize(("arch", "framework", "api"), CASES)
def test_native_logits_and_training_match_keras(arch, framework, api):
    keras_model, model = _keras_model(arch, api), _native(arch, framework)
    model.load_keras_weights(keras_model)
    images = _batches()[0][0]
    logits = model.predict(images)
    assert np.abs(logits - np.asarray(keras_model.predict_on_batch(images))).max() < LOGIT_TOLERANCE
    keras_losses = [float(keras_model.train_on_batch(x, y)) for x, y in _batches()]
    native_losses = [model.train_step(x, y) for x, y in _batches()]
    tolerance = LOSS_TOLERANCE if framework == "tensorflow" else LOSS_TOLERANCE_ACROSS_KERNELS[arch]
    np.testing.assert_allclose(native_losses, keras_losses, rtol=tolerance)
    # the moving statistics follow Keras' momentum: inference after training agrees too
    after = np.asarray(keras_model.predict_on_batch(images))
    assert np.abs(model.predict(images) - after).max() < 0.05 * np.abs(after).max()


@pytest.mark.parametrize("framework", list(native.FRAMEWORKS))
@pytest.mark.parametrize("arch", list(native.NATIVE_ARCHS))
def test_native_counts_parameters_as_keras_does(arch, framework):
    assert _native(arch, framework).count_params() == EXPECTED_PARAMS[arch]


def test_unknown_names_are_rejected():
    with pytest.raises(ValueError, match="unknown framework"):
        native.build("cnn", "mxnet")
    with pytest.raises(ValueError, match="no native"):
        native.build("vgg", "torch")
