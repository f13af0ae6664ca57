"""Parity: the three APIs of each architecture are the same model.

Every (arch, api) cell is loaded with one canonical weight set, then its
inference outputs, training-mode outputs, gradients and a short Adam
trajectory are computed once (session cache); each test compares a pair of
APIs value by value.
"""

from __future__ import annotations

import functools
import itertools

import keras
import numpy as np
import pytest

import implementations
from bench.run.backend_ops import gradients, loss_function, make_deterministic
from tests.support.weights import with_batchnorm_statistics

EXPECTED_PARAMS = {  # total, trainable, non-trainable (BatchNorm moving statistics)
    "cnn": (1_097_098, 1_096_650, 448),
    "resnet": (2_400_490, 2_397_418, 3_072),
}
RESNET_BLOCK_OUTPUTS = [(14, 14, 64), (7, 7, 256), (3, 3, 512)]
BATCH = 8
ADAM_STEPS = 5
TOLERANCE = 1e-6
SEED = 1234

PAIRS = [
    pytest.param(arch, a, b, id=f"{arch}-{a}-vs-{b}")
    for arch in implementations.ARCHS
    for a, b in itertools.combinations(implementations.model_set(arch).apis, 2)
]


def _batch(seed: int = 0):
    rng = np.random.default_rng(seed)
    images = rng.random((BATCH, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, size=BATCH)
    return images, labels


@functools.cache
def canonical_weights(arch: str) -> list[np.ndarray]:
    """One weight set per arch, taken from the functional model, with non-trivial BN statistics."""
    model = implementations.build(arch, "functional", seed=SEED)
    return with_batchnorm_statistics(model, np.random.default_rng(SEED))


def loaded(arch: str, api: str) -> keras.Model:
    """A fresh (arch, api) model, differently seeded, overwritten with the canonical weights."""
    model = implementations.build(arch, api, seed=SEED + 1 + implementations.APIS.index(api))
    model.set_weights(canonical_weights(arch))
    return model


@functools.cache
def built(arch: str, api: str) -> keras.Model:
    """The cell's model as the tests that only read its structure or call it for inference share it."""
    return implementations.build(arch, api)


@functools.cache
def trajectory(arch: str, api: str) -> dict:
    """Everything the pair tests compare, computed once per cell (one model, set back to the canonical weights
    before each part)."""
    make_deterministic(SEED)
    images, labels = _batch()
    model = loaded(arch, api)
    result = {
        "inference": keras.ops.convert_to_numpy(model(images, training=False)),
        "training": keras.ops.convert_to_numpy(model(images, training=True)),
    }
    model.set_weights(canonical_weights(arch))  # the training-mode call above moved BatchNorm statistics
    result["gradients"] = gradients(model, images, labels)

    make_deterministic(SEED)
    model.set_weights(canonical_weights(arch))
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss_function())
    result["losses"] = [float(model.train_on_batch(*_batch(step))) for step in range(ADAM_STEPS)]
    return result


@pytest.mark.parametrize(("arch", "api"), implementations.cell_ids())
def test_parameter_counts_match_the_tutorial(arch, api):
    model = built(arch, api)
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    non_trainable = sum(int(np.prod(w.shape)) for w in model.non_trainable_weights)
    assert (model.count_params(), trainable, non_trainable) == EXPECTED_PARAMS[arch]


@pytest.mark.parametrize("api", implementations.model_set("resnet").apis)
def test_resnet_block_output_shapes(api):
    model = built("resnet", api)
    blocks = [layer for layer in model.layers if "block" in layer.name or "Residual" in type(layer).__name__]
    x = keras.ops.zeros((1, 28, 28, 1))
    shapes = []
    if api in ("functional", "functional_subclass"):  # a graph: the blocks' outputs are its tensors
        for index in range(3):
            shapes.append(tuple(model.get_layer(f"block{index}_pool").output.shape[1:]))
    else:
        if api == "subclassing":
            blocks = model.blocks
        for block in blocks:
            x = block(x)
            shapes.append(tuple(x.shape[1:]))
    assert shapes == RESNET_BLOCK_OUTPUTS


@pytest.mark.parametrize(("arch", "a", "b"), PAIRS)
def test_same_weight_shapes_and_output_shape(arch, a, b):
    model_a, model_b = built(arch, a), built(arch, b)
    assert [tuple(w.shape) for w in model_a.weights] == [tuple(w.shape) for w in model_b.weights]
    assert [w.trainable for w in model_a.weights] == [w.trainable for w in model_b.weights]
    images, _ = _batch()
    assert model_a(images).shape == model_b(images).shape == (BATCH, 10)


@pytest.mark.parametrize("mode", ["inference", "training"])
@pytest.mark.parametrize(("arch", "a", "b"), PAIRS)
def test_same_outputs(arch, a, b, mode):
    # Same weights, same batch: logits agree in inference mode and with BatchNorm on batch statistics.
    np.testing.assert_allclose(trajectory(arch, a)[mode], trajectory(arch, b)[mode], rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize(("arch", "a", "b"), PAIRS)
def test_same_gradients(arch, a, b):
    grads_a, grads_b = trajectory(arch, a)["gradients"], trajectory(arch, b)["gradients"]
    assert len(grads_a) == len(grads_b)
    for index, (ga, gb) in enumerate(zip(grads_a, grads_b, strict=True)):
        scale = max(1.0, float(np.abs(ga).max()))
        np.testing.assert_allclose(ga, gb, rtol=0, atol=TOLERANCE * scale, err_msg=f"gradient {index}")


@pytest.mark.parametrize(("arch", "a", "b"), PAIRS)
def test_same_losses_over_adam_steps(arch, a, b):
    losses_a, losses_b = trajectory(arch, a)["losses"], trajectory(arch, b)["losses"]
    assert len(losses_a) == ADAM_STEPS
    assert losses_a[-1] != losses_a[0], "the optimizer must actually move the weights"
    np.testing.assert_allclose(losses_a, losses_b, rtol=0, atol=TOLERANCE)


@pytest.mark.parametrize(("arch", "api"), implementations.cell_ids())
def test_keras_save_load_round_trip(arch, api, tmp_path):
    model = loaded(arch, api)
    path = tmp_path / f"{arch}-{api}.keras"
    model.save(path)
    restored = keras.saving.load_model(path, safe_mode=True)
    images, _ = _batch()
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(images)),
        trajectory(arch, api)["inference"],
        rtol=0,
        atol=TOLERANCE,
    )
