"""BatchNorm recalibration before evaluation: moving statistics become the mean of the batch statistics."""

from __future__ import annotations

import numpy as np

import implementations
from bench.run.steps import recalibrate_batchnorm


def _batches(count: int, size: int = 16):
    rng = np.random.default_rng(3)
    return rng.random((count * size, 28, 28, 1), dtype=np.float32)


def test_moving_statistics_are_the_average_of_batch_statistics():
    model = implementations.build("cnn", "functional", seed=0)
    images = _batches(2)
    conv, norm = model.get_layer("block0_conv"), model.get_layer("block0_bn")
    used = recalibrate_batchnorm(model, images, batches=2, batch_size=16)
    assert used == 2
    batch_means = [np.asarray(conv(images[i * 16 : (i + 1) * 16])).mean(axis=(0, 1, 2)) for i in range(2)]
    np.testing.assert_allclose(
        np.asarray(norm.moving_mean), np.mean(batch_means, axis=0), rtol=1e-4, atol=1e-6
    )
    assert norm.momentum == 0.99  # restored


def test_recalibration_reaches_layers_nested_in_custom_blocks():
    model = implementations.build("resnet", "subclassing", seed=0)
    before = [np.asarray(v).copy() for v in model.non_trainable_weights]
    assert recalibrate_batchnorm(model, _batches(1), batches=1, batch_size=16) == 1
    after = [np.asarray(v) for v in model.non_trainable_weights]
    assert all(not np.allclose(b, a) for b, a in zip(before, after, strict=True))
