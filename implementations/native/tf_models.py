"""Native TensorFlow: tf.Variable weights, tf.nn ops, a tf.function + GradientTape training step."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from implementations.native import layout


class NativeModel:
    """A plan from :mod:`implementations.native.layout` run with plain TensorFlow (no Keras layers)."""

    framework = "tensorflow"

    def __init__(self, arch: str, *, seed: int | None = None, jit_compile: bool = False):
        self.arch = arch
        self.plan = layout.NATIVE_ARCHS[arch]()
        self.jit_compile = jit_compile
        self.variables = [tf.Variable(w) for w in layout.initial_weights(self.plan, seed)]
        self._slots = [(tf.Variable(tf.zeros_like(v)), tf.Variable(tf.zeros_like(v))) for v in self.variables]
        self._step = tf.Variable(0.0)
        self._train = tf.function(self._train_step, jit_compile=jit_compile)
        self._predict = tf.function(lambda x: self._forward(x, training=False), jit_compile=jit_compile)

    def _conv_block(self, x, weights, training: bool):
        kernel, bias, gamma, beta, moving_mean, moving_var = (next(weights) for _ in range(6))
        x = tf.nn.conv2d(x, kernel, strides=1, padding="SAME") + bias
        if training:
            mean, var = tf.nn.moments(x, axes=[0, 1, 2])
            moving_mean.assign(moving_mean * layout.BN_MOMENTUM + mean * (1 - layout.BN_MOMENTUM))
            moving_var.assign(moving_var * layout.BN_MOMENTUM + var * (1 - layout.BN_MOMENTUM))
        else:
            mean, var = moving_mean, moving_var
        return tf.nn.relu(tf.nn.batch_normalization(x, mean, var, beta, gamma, layout.BN_EPSILON))

    def _forward(self, x, training: bool):
        weights = iter(self.variables)
        for item in self.plan:
            if isinstance(item, layout.Conv):
                x = self._conv_block(x, weights, training)
            elif isinstance(item, layout.Residual):
                branch = self._conv_block(self._conv_block(x, weights, training), weights, training)
                kernel, bias = next(weights), next(weights)
                merged = branch + tf.nn.conv2d(x, kernel, strides=1, padding="SAME") + bias
                x = tf.nn.max_pool2d(self._conv_block(merged, weights, training), 2, 2, "VALID")
            else:
                kernel, bias = next(weights), next(weights)
                pooled = (
                    tf.reduce_mean(x, axis=[1, 2])
                    if item.pool == "average"
                    else tf.reshape(x, [tf.shape(x)[0], -1])
                )
                x = tf.matmul(pooled, kernel) + bias
        return x

    def _train_step(self, images, labels):
        mask = layout.trainable_mask(self.plan)
        trainable = [v for v, keep in zip(self.variables, mask, strict=True) if keep]
        slots = [s for s, keep in zip(self._slots, mask, strict=True) if keep]
        with tf.GradientTape() as tape:
            logits = self._forward(images, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))
        grads = tape.gradient(loss, trainable)
        self._step.assign_add(1.0)
        alpha = (
            layout.ADAM_LEARNING_RATE
            * tf.sqrt(1 - layout.ADAM_BETA_2**self._step)
            / (1 - layout.ADAM_BETA_1**self._step)
        )
        for var, grad, (m, v) in zip(trainable, grads, slots, strict=True):
            m.assign_add((grad - m) * (1 - layout.ADAM_BETA_1))
            v.assign_add((tf.square(grad) - v) * (1 - layout.ADAM_BETA_2))
            var.assign_sub(m * alpha / (tf.sqrt(v) + layout.ADAM_EPSILON))
        return loss

    def load_keras_weights(self, keras_model) -> None:
        for var, value in zip(self.variables, layout.keras_weights(keras_model, self.plan), strict=True):
            var.assign(value)

    def predict(self, images) -> np.ndarray:
        return self._predict(tf.convert_to_tensor(images, tf.float32)).numpy()

    def train_step(self, images, labels) -> float:
        return float(
            self._train(tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(labels, tf.int64))
        )

    def recalibrate_batchnorm(self, batches) -> None:
        """Moving statistics := the plain mean of the batch statistics over ``batches`` (see layout)."""
        mask = layout.trainable_mask(self.plan)
        moving = [v for v, keep in zip(self.variables, mask, strict=True) if not keep]
        forward = tf.function(lambda x: self._forward(x, training=True))

        def statistics_from_zero(images):
            for variable in moving:
                variable.assign(tf.zeros_like(variable))
            forward(tf.convert_to_tensor(images, tf.float32))
            return [variable.numpy() for variable in moving]

        for variable, value in zip(moving, layout.averaged_batch_statistics(statistics_from_zero, batches),
                                   strict=True):  # fmt: skip
            variable.assign(value)

    def count_params(self) -> int:
        return int(sum(int(np.prod(v.shape)) for v in self.variables))
