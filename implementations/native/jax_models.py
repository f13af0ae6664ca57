"""Native JAX: pure functions of (parameters, statistics) under jax.jit, Adam written out as Keras does it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from implementations.native import layout


def _conv_block(x, params, statistics, new_statistics: list, training: bool):
    kernel, bias, gamma, beta = (next(params) for _ in range(4))
    moving_mean, moving_var = next(statistics), next(statistics)
    x = (
        jax.lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
        + bias
    )
    if training:
        mean, var = jnp.mean(x, axis=(0, 1, 2)), jnp.var(x, axis=(0, 1, 2))
        moving_mean = moving_mean * layout.BN_MOMENTUM + mean * (1 - layout.BN_MOMENTUM)
        moving_var = moving_var * layout.BN_MOMENTUM + var * (1 - layout.BN_MOMENTUM)
    else:
        mean, var = moving_mean, moving_var
    new_statistics += [moving_mean, moving_var]
    return jax.nn.relu((x - mean) * jax.lax.rsqrt(var + layout.BN_EPSILON) * gamma + beta)


def _forward(plan, params, statistics, x, training: bool):
    """Logits and the BatchNorm statistics after this call (updated only in training mode)."""
    params, statistics, new_statistics = iter(params), iter(statistics), []
    for item in plan:
        if isinstance(item, layout.Conv):
            x = _conv_block(x, params, statistics, new_statistics, training)
        elif isinstance(item, layout.Residual):
            branch = _conv_block(x, params, statistics, new_statistics, training)
            branch = _conv_block(branch, params, statistics, new_statistics, training)
            kernel, bias = next(params), next(params)
            shortcut = jax.lax.conv_general_dilated(
                x, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
            )
            merged = _conv_block(branch + shortcut + bias, params, statistics, new_statistics, training)
            x = jax.lax.reduce_window(merged, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1), "VALID")
        else:
            kernel, bias = next(params), next(params)
            pooled = jnp.mean(x, axis=(1, 2)) if item.pool == "average" else x.reshape(x.shape[0], -1)
            x = pooled @ kernel + bias
    return x, new_statistics


class NativeModel:
    """A plan from :mod:`implementations.native.layout` as jitted JAX functions."""

    framework = "jax"
    jit_compile = True  # every step runs under jax.jit

    def __init__(self, arch: str, *, seed: int | None = None):
        self.arch = arch
        self.plan = layout.NATIVE_ARCHS[arch]()
        self._set(layout.initial_weights(self.plan, seed))
        plan = self.plan

        def loss_of(params, statistics, images, labels):
            logits, new_statistics = _forward(plan, params, statistics, images, training=True)
            log_probs = jax.nn.log_softmax(logits)
            loss = -jnp.mean(jnp.take_along_axis(log_probs, labels[:, None], axis=1))
            return loss, new_statistics

        def train(params, statistics, slots, step, images, labels):
            (loss, new_statistics), grads = jax.value_and_grad(loss_of, has_aux=True)(
                params, statistics, images, labels
            )
            step = step + 1
            alpha = (
                layout.ADAM_LEARNING_RATE
                * jnp.sqrt(1 - layout.ADAM_BETA_2**step)
                / (1 - layout.ADAM_BETA_1**step)
            )
            new_params, new_slots = [], []
            for param, grad, (m, v) in zip(params, grads, slots, strict=True):
                m = m + (grad - m) * (1 - layout.ADAM_BETA_1)
                v = v + (grad * grad - v) * (1 - layout.ADAM_BETA_2)
                new_params.append(param - m * alpha / (jnp.sqrt(v) + layout.ADAM_EPSILON))
                new_slots.append((m, v))
            return loss, new_params, new_statistics, new_slots, step

        self._train = jax.jit(train)
        self._statistics_after = jax.jit(
            lambda params, statistics, x: _forward(plan, params, statistics, x, True)[1]
        )
        self._predict = jax.jit(lambda params, statistics, x: _forward(plan, params, statistics, x, False)[0])

    def _set(self, weights: list[np.ndarray]) -> None:
        mask = layout.trainable_mask(self.plan)
        self.params = [jnp.asarray(w) for w, keep in zip(weights, mask, strict=True) if keep]
        self.statistics = [jnp.asarray(w) for w, keep in zip(weights, mask, strict=True) if not keep]
        self.slots = [(jnp.zeros_like(p), jnp.zeros_like(p)) for p in self.params]
        self.step = jnp.asarray(0.0, jnp.float32)

    def load_keras_weights(self, keras_model) -> None:
        self._set(layout.keras_weights(keras_model, self.plan))

    def predict(self, images) -> np.ndarray:
        return np.asarray(self._predict(self.params, self.statistics, jnp.asarray(images, jnp.float32)))

    def train_step(self, images, labels) -> float:
        loss, self.params, self.statistics, self.slots, self.step = self._train(
            self.params,
            self.statistics,
            self.slots,
            self.step,
            jnp.asarray(images, jnp.float32),
            jnp.asarray(labels, jnp.int32),
        )
        return float(loss)

    def recalibrate_batchnorm(self, batches) -> None:
        """Moving statistics := the plain mean of the batch statistics over ``batches`` (see layout)."""
        zeros = [jnp.zeros_like(s) for s in self.statistics]
        averaged = layout.averaged_batch_statistics(
            lambda images: self._statistics_after(self.params, zeros, jnp.asarray(images, jnp.float32)),
            batches,
        )
        self.statistics = [jnp.asarray(s) for s in averaged]

    def count_params(self) -> int:
        return int(sum(p.size for p in self.params) + sum(s.size for s in self.statistics))
