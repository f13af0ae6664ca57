"""The few things Keras 3 leaves to each backend: determinism, gradients, device names and memory.

Everything else in the suite is backend-neutral Keras; these helpers switch on
``keras.backend.backend()`` so benchmarks and tests run on TensorFlow, JAX and PyTorch.
"""

from __future__ import annotations

import keras
import numpy as np

from bench.core.machine import cpu_model, cpu_threads  # noqa: F401  (re-exported for callers)


def backend_name() -> str:
    """The Keras backend in use: "tensorflow", "jax" or "torch"."""
    return keras.backend.backend()


def make_deterministic(seed: int) -> None:
    """Seed every generator Keras uses and ask the backend for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    elif backend == "torch":
        import torch

        torch.use_deterministic_algorithms(True, warn_only=True)


def loss_function() -> keras.losses.Loss:
    """The tutorial's loss: sparse categorical cross-entropy from logits."""
    return keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def gradients(model: keras.Model, images: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    """Gradients of the training-mode loss with respect to ``model.trainable_weights``."""
    loss_fn = loss_function()
    backend = backend_name()
    if backend == "tensorflow":
        import tensorflow as tf

        with tf.GradientTape() as tape:
            loss = loss_fn(labels, model(images, training=True))
        grads = tape.gradient(loss, model.trainable_weights)
    elif backend == "jax":
        import jax

        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_of(weights):
            logits, _ = model.stateless_call(weights, non_trainable, images, training=True)
            return loss_fn(labels, logits)

        grads = jax.grad(loss_of)(trainable)
    elif backend == "torch":
        model.zero_grad()
        loss = loss_fn(keras.ops.convert_to_tensor(labels), model(images, training=True))
        loss.backward()
        grads = [v.value.grad for v in model.trainable_variables]
    else:
        raise ValueError(f"no gradient helper for backend {backend!r}")
    return [keras.ops.convert_to_numpy(g) for g in grads]


def accelerator() -> str | None:
    """Name of the GPU the backend computes on, or None on the CPU."""
    backend = backend_name()
    try:
        if backend == "jax":
            import jax

            gpus = [d for d in jax.devices() if d.platform == "gpu"]
            return gpus[0].device_kind if gpus else None
        if backend == "torch":
            import torch

            return torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if not gpus:
            return None
        details = tf.config.experimental.get_device_details(gpus[0])
        return details.get("device_name", gpus[0].name)
    except Exception:  # a half-installed CUDA stack means: no usable GPU
        return None


def device_memory_peak_bytes() -> int | None:
    """Peak device memory the backend reports, or None where it reports none (CPU)."""
    backend = backend_name()
    try:
        if backend == "torch":
            import torch

            return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None
        if backend == "jax":
            import jax

            device = jax.devices()[0]
            if device.platform != "gpu":
                return None
            stats = device.memory_stats() or {}
            return stats.get("peak_bytes_in_use")
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            return None
        return int(tf.config.experimental.get_memory_info("GPU:0")["peak"])
    except Exception:
        return None
