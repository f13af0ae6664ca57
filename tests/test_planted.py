"""The plants of the regression evidence: the work each adds, and an output left unchanged."""

import numpy as np
import pytest

from bench.suite.planted import extra_regions, slower_keras_conv, slower_keras_predict, slower_tf_conv


def _pixels(regions):
    return sum(height * width for height, width in regions)


@pytest.mark.parametrize("share", [1 / 28, 2 / 28, 29 / 784, 0.05, 12 / 28])
def test_rows_and_block_hold_the_share_of_pixels(share):
    rows_form = extra_regions(share, 28, 28, block=False)
    block_form = extra_regions(share, 28, 28, block=True)
    assert abs(_pixels(rows_form) - share * 784) <= 0.5
    assert abs(_pixels(block_form) - share * 784) <= 1  # rounded to whole columns per row
    assert len(block_form) == 1


def test_rows_form_is_whole_rows_then_the_start_of_one_more():
    assert extra_regions(0.05, 28, 28, block=False) == [(1, 28), (1, 11)]
    assert extra_regions(2 / 28, 28, 28, block=False) == [(2, 28)]
    assert extra_regions(0.05, 28, 28, block=True) == [(2, 20)]


@pytest.mark.parametrize("block", [False, True])
def test_slower_conv_keeps_the_output_and_does_more_calls(monkeypatch, block):
    import keras

    layer = keras.layers.Conv2D(4, 3, padding="same")
    images = np.random.default_rng(0).normal(size=(2, 28, 28, 3)).astype("float32")
    expected = keras.ops.convert_to_numpy(layer(images))
    calls = []
    original = keras.layers.Conv2D.call

    def counted(self, inputs):
        calls.append(tuple(inputs.shape[1:3]))
        return original(self, inputs)

    monkeypatch.setattr(keras.layers.Conv2D, "call", counted)
    slower_keras_conv(0.05, block=block)
    planted = keras.ops.convert_to_numpy(layer(images))
    np.testing.assert_array_equal(planted, expected)
    expected_calls = [(28, 28), (2, 20)] if block else [(28, 28), (1, 28), (1, 11)]
    assert calls == expected_calls


def test_slower_predict_spends_the_overhead_in_cpu_time_and_keeps_the_output(monkeypatch):
    import time

    import keras

    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    x = np.ones((1, 4), "float32")
    expected = np.asarray(model.predict_on_batch(x))

    def cpu_per_call() -> float:
        start = time.process_time()
        for _ in range(20):
            model.predict_on_batch(x)
        return (time.process_time() - start) / 20

    before = min(cpu_per_call() for _ in range(3))
    monkeypatch.setattr(keras.Model, "predict_on_batch", keras.Model.predict_on_batch)
    slower_keras_predict(0.005)
    np.testing.assert_array_equal(np.asarray(model.predict_on_batch(x)), expected)
    assert min(cpu_per_call() for _ in range(3)) - before >= 0.004  # 5 ms planted, less timing noise


def test_slower_tf_conv_slows_keras_and_native_convolutions_alike(monkeypatch):
    tf = pytest.importorskip("tensorflow")
    images = tf.constant(np.random.default_rng(0).normal(size=(2, 28, 28, 3)).astype("float32"))
    kernel = tf.constant(np.random.default_rng(1).normal(size=(3, 3, 3, 4)).astype("float32"))
    expected = tf.nn.conv2d(images, kernel, strides=1, padding="SAME").numpy()
    calls = []
    for name in ("convolution", "conv2d"):
        original = getattr(tf.nn, name)

        def counted(x, filters, *args, _original=original, _name=name, **kwargs):
            calls.append((_name, tuple(x.shape[1:3])))
            return _original(x, filters, *args, **kwargs)

        monkeypatch.setattr(tf.nn, name, counted)
    slower_tf_conv(2 / 28)
    for name in ("convolution", "conv2d"):
        outputs = getattr(tf.nn, name)(images, kernel, strides=1, padding="SAME")
        np.testing.assert_allclose(outputs.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert calls == [
        ("convolution", (28, 28)),
        ("convolution", (2, 28)),
        ("conv2d", (28, 28)),
        ("conv2d", (2, 28)),
    ]
