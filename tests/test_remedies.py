"""What the answer's last column tells a user to do (``REMEDIES``) works on the registry's models: each is
done as written and gives the original model's logits exactly."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

import implementations
from bench.core.capability_names import (
    BUILD_LOAD_WEIGHTS,
    QUANTIZATION_MODES,
    REMEDIES,
    WEIGHTS_FROM_FUNCTIONAL,
    quantized_load_row,
)
from bench.probes.portable import images, logits
from bench.probes.transfer import _other_weights


def test_a_subclassed_model_called_on_a_batch_takes_its_weights_file(tmp_path):
    assert REMEDIES[BUILD_LOAD_WEIGHTS].startswith("call it on a batch, not build()")
    source = implementations.build("cnn", "subclassing", seed=0)
    source.save_weights(tmp_path / "cnn.weights.h5")
    target = _other_weights("cnn", "subclassing")  # the remedy: called once; build(shape) made no weights
    target.load_weights(tmp_path / "cnn.weights.h5")
    assert np.array_equal(logits(target, images()), logits(source, images()))


@pytest.mark.parametrize("mode", QUANTIZATION_MODES)
def test_a_quantized_subclassed_model_is_rebuilt_called_quantized_then_loaded(tmp_path, mode):
    assert REMEDIES[quantized_load_row(mode)] == "rebuild, call, quantize(), then load_weights"
    source = implementations.build("cnn", "subclassing", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        source.quantize(mode)
    source.save_weights(tmp_path / f"{mode}.weights.h5")
    target = _other_weights("cnn", "subclassing")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        target.quantize(mode)
    target.load_weights(tmp_path / f"{mode}.weights.h5")
    assert np.array_equal(logits(target, images()), logits(source, images()))


@pytest.mark.parametrize("arch", ["cnn", "resnet"])
@pytest.mark.parametrize("api", ["sequential", "subclassing"])
def test_the_functional_models_weights_go_over_by_set_weights(arch, api):
    """Where the Functional weights file does not load (other nesting, other paths), the weights in Keras'
    own order do: every API lists them alike."""
    assert "set_weights(src.get_weights())" in REMEDIES[WEIGHTS_FROM_FUNCTIONAL]
    source = implementations.build(arch, "functional", seed=0)
    target = _other_weights(arch, api)
    target.set_weights(source.get_weights())
    assert np.array_equal(logits(target, images()), logits(source, images()))


@pytest.mark.parametrize("arch", implementations.ARCHS)
def test_a_subclassed_model_wrapped_in_a_functional_model_gives_its_features(arch):
    """The remedy for feature extraction: wrap call() in a Functional model, check it computes the model's
    outputs, then cut at an inner layer."""
    assert REMEDIES["feature extraction via keras.Model(inputs, layer.output)"].startswith(
        "wrap: keras.Model(x, model.call(x))"
    )
    model = implementations.build(arch, "subclassing", seed=0)
    images = np.random.default_rng(0).random((2, 28, 28, 1), dtype=np.float32)
    inputs = keras.Input((28, 28, 1))
    wrapper = keras.Model(inputs, model.call(inputs))
    np.testing.assert_allclose(wrapper(images), model(images), atol=1e-5)
    features = keras.Model(wrapper.inputs, wrapper.layers[1].output)(images)
    assert features.shape[0] == 2 and len(features.shape) == 4
