"""A pytest plugin that plants a known regression into a benchmark run; used only by tests.

Loaded with ``python -m bench run ... -- -p bench.suite.planted`` and steered by:

* ``PLANTED_SLOWDOWN="cnn-functional:0.25"``: that cell's train step does about 25%
  extra real work (an extra forward pass over part of the batch, sized on the first call).
* ``PLANTED_ACCURACY_DROP="cnn-functional"``: that cell trains with a learning rate
  a hundred times smaller, so its test accuracy falls.
* ``PLANTED_KERAS_SLOWDOWN="0.25"``: a slower Keras release, planted inside Keras itself:
  ``keras.layers.Conv2D.call`` also convolves the first quarter of its input's pixels (whole
  rows, then the start of the next row) and folds the result in as ``+ 0 * mean``, so every
  model's output is unchanged while each convolution, forward and backward, does about 25%
  more work.  The project's code and the native reference (no Keras) are untouched.
  With ``PLANTED_KERAS_BLOCK=1`` each share is one block instead: the first rows, each cut to
  the same number of columns, so a share that is not whole rows still costs one convolution call.
* ``PLANTED_TF_CONV_SLOWDOWN="0.1"``: a slower TensorFlow release, below Keras: ``tf.nn.convolution``
  (what Keras' Conv2D calls) and ``tf.nn.conv2d`` (what the native reference calls) also convolve
  that share of their input's pixels, output unchanged, so the models and the native reference
  slow down alike.
* ``PLANTED_KERAS_PREDICT_OVERHEAD_US="100"``: a Keras release whose predict path got slower in
  Python, not in its kernels: ``keras.Model.predict_on_batch`` spends that many microseconds of
  extra CPU time per call before predicting.  A fixed cost per call, so it weighs most on batch 1.
"""

from __future__ import annotations

import os
import time

import numpy as np


def _cell_name(model) -> str:
    return model.name.replace("_", "-")


def _slowed_train_step(original, target: str, fraction: float):
    def train_step(model, images, labels):
        step = original(model, images, labels)
        if _cell_name(model) != target:
            return step
        extra = {}

        def calibrate():
            times = []
            for _ in range(3):
                start = time.perf_counter()
                step()
                times.append(time.perf_counter() - start)
            start = time.perf_counter()
            model.predict_on_batch(images)
            forward = time.perf_counter() - start
            start = time.perf_counter()
            model.predict_on_batch(images)
            forward = min(forward, time.perf_counter() - start)
            passes = fraction * float(np.median(times)) / forward
            extra["repeats"], remainder = int(passes), passes - int(passes)
            extra["images"] = images[: max(1, int(round(remainder * len(images))))]
            model.predict_on_batch(extra["images"])  # trace this shape outside the timed rounds

        def slowed_step():
            if not extra:
                calibrate()
            loss = step()
            for _ in range(extra["repeats"]):
                model.predict_on_batch(images)
            model.predict_on_batch(extra["images"])
            return loss

        return slowed_step

    return train_step


def _worse_compiled_model(original, target: str):
    def compiled_model(arch, api, profile, **kwargs):
        model = original(arch, api, profile, **kwargs)
        if f"{arch}-{api}" == target:
            model.optimizer.learning_rate = 1e-5  # a hundredth of the recipe's 1e-3
        return model

    return compiled_model


def extra_regions(share: float, rows: int, cols: int, block: bool) -> list[tuple[int, int]]:
    """(rows, columns) of the top-left regions that hold ``share`` of a ``rows`` x ``cols`` input.

    As rows: the whole first rows, then the start of one more row (one or two regions).  As one
    block: as many rows as that takes, each cut to the columns that give the same pixel count."""
    pixels = max(1, round(share * rows * cols))
    if block:
        height = min(rows, -(-pixels // cols))
        return [(height, min(cols, max(1, round(pixels / height))))]
    whole_rows, rest = divmod(pixels, cols)
    return [region for region in ((whole_rows, cols), (1, rest)) if 0 not in region]


def slower_keras_conv(fraction: float, block: bool = False) -> None:
    import keras

    original = keras.layers.Conv2D.call

    def call(self, inputs):
        outputs = original(self, inputs)
        rows, cols = inputs.shape[1], inputs.shape[2]
        extra = keras.ops.zeros((), dtype=outputs.dtype)
        remaining = fraction
        while remaining > 1e-9:  # whole repeats, then a share of the pixels
            share = min(remaining, 1.0)
            for height, width in extra_regions(share, rows, cols, block):
                extra = extra + keras.ops.mean(original(self, inputs[:, :height, :width]))
            remaining -= share
        return outputs + 0.0 * extra

    keras.layers.Conv2D.call = call


def slower_tf_conv(fraction: float) -> None:
    import tensorflow as tf

    def slowed(original):
        def conv(input, filters, *args, **kwargs):  # noqa: A002 - TensorFlow's own argument name
            outputs = original(input, filters, *args, **kwargs)
            rows, cols = input.shape[1], input.shape[2]
            extra = tf.zeros((), dtype=outputs.dtype)
            for height, width in extra_regions(fraction, rows, cols, block=False):
                extra += tf.reduce_mean(original(input[:, :height, :width], filters, *args, **kwargs))
            return outputs + 0.0 * extra

        return conv

    tf.nn.convolution = slowed(tf.nn.convolution)
    tf.nn.conv2d = slowed(tf.nn.conv2d)


def slower_keras_predict(overhead_s: float) -> None:
    import keras

    original = keras.Model.predict_on_batch

    def predict_on_batch(self, x):
        until = time.process_time() + overhead_s
        while time.process_time() < until:  # CPU work, as Python dispatch would do, not waiting
            pass
        return original(self, x)

    keras.Model.predict_on_batch = predict_on_batch


def pytest_configure(config):
    from bench.run import steps

    keras_slowdown = os.environ.get("PLANTED_KERAS_SLOWDOWN")
    if keras_slowdown:
        slower_keras_conv(float(keras_slowdown), block=os.environ.get("PLANTED_KERAS_BLOCK") == "1")

    tf_slowdown = os.environ.get("PLANTED_TF_CONV_SLOWDOWN")
    if tf_slowdown:
        slower_tf_conv(float(tf_slowdown))

    predict_overhead = os.environ.get("PLANTED_KERAS_PREDICT_OVERHEAD_US")
    if predict_overhead:
        slower_keras_predict(float(predict_overhead) * 1e-6)

    slowdown = os.environ.get("PLANTED_SLOWDOWN")
    if slowdown:
        target, fraction = slowdown.split(":")
        steps.train_step = _slowed_train_step(steps.train_step, target, float(fraction))
    accuracy_target = os.environ.get("PLANTED_ACCURACY_DROP")
    if accuracy_target:
        steps.compiled_model = _worse_compiled_model(steps.compiled_model, accuracy_target)
