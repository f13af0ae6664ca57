"""Data-parallel training of every API of one architecture on two CPU devices, in its own process.

``python -m bench.probes.distributed ARCH`` prints one JSON object: per API, whether one
training step runs with the model built inside the distribution's scope and built
outside it (then compiled and trained inside).  On JAX the two devices are virtual
(``--xla_force_host_platform_device_count=2``) and the distribution is
``keras.distribution.DataParallel``; on TensorFlow they are two logical CPUs under
``tf.distribute.MirroredStrategy``.  The devices must exist before the framework
starts, hence a process of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys

DEVICES = 2


def first_line(error: Exception) -> str:
    """An exception as one short line for a verdict cell: its type and the start of its message."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:90]}" if text else type(error).__name__


def main(arch: str) -> dict:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "jax":
        os.environ["XLA_FLAGS"] = (
            os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={DEVICES}"
        )
    import keras
    import numpy as np

    import implementations
    from bench.run.backend_ops import loss_function

    if backend == "jax":
        import jax

        distribution = keras.distribution.DataParallel(devices=jax.devices("cpu")[:DEVICES])

        def scope():
            keras.distribution.set_distribution(distribution)
            return contextlib.nullcontext()

        def leave():
            keras.distribution.set_distribution(None)

    elif backend == "tensorflow":
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * DEVICES)
        strategy = tf.distribute.MirroredStrategy([f"/cpu:{i}" for i in range(DEVICES)])

        def scope():
            return strategy.scope()

        def leave():
            pass

    else:
        reason = (
            "n/a: Keras distributes training on JAX (DataParallel) and TensorFlow (MirroredStrategy) only"
        )
        return {api: {"inside": reason, "outside": reason} for api in implementations.APIS}

    rng = np.random.default_rng(0)
    images = rng.random((8, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, 8)
    verdicts = {}
    for api in implementations.APIS:
        verdicts[api] = {}
        for where in ("inside", "outside"):
            try:
                if where == "outside":
                    model = implementations.build(arch, api, seed=0)
                with scope():
                    if where == "inside":
                        model = implementations.build(arch, api, seed=0)
                    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=loss_function())
                    loss = float(np.asarray(model.train_on_batch(images, labels)).reshape(-1)[0])
                verdicts[api][where] = "yes" if np.isfinite(loss) else f"no: loss {loss}"
            except Exception as error:
                verdicts[api][where] = f"no: {first_line(error)}"
            finally:
                leave()
    return verdicts


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print(json.dumps(main(sys.argv[1])))
