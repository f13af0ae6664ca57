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
import re
import sys

DEVICES = 2


def first_line(error: Exception) -> str:
    """An exception as one short line for a verdict cell: its type and the start of its message."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:90]}" if text else type(error).__name__


def main(arch: str) -> dict:
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "jax":
        # first: XLA stops reading its flags at a word that is not one, and the run's threading flags may
        # hold such a word
        os.environ["XLA_FLAGS"] = (
            f"--xla_force_host_platform_device_count={DEVICES} " + os.environ.get("XLA_FLAGS", "")
        ).strip()
    import keras
    import numpy as np

    import implementations

    chosen = implementations.model_set(arch)
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
        no_model_parallel = "n/a (Keras' ModelParallel runs on the JAX backend only)"
        return {api: {"inside": reason, "outside": reason, "model parallel": no_model_parallel}
                for api in chosen.apis}  # fmt: skip

    images, labels = chosen.sample_batch(8)
    verdicts = {}
    for api in chosen.apis:
        verdicts[api] = {}
        for where in ("inside", "outside"):
            try:
                if where == "outside":
                    model = implementations.build(arch, api, seed=0)
                with scope():
                    if where == "inside":
                        model = implementations.build(arch, api, seed=0)
                    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss=chosen.training_loss())
                    loss = float(np.asarray(model.train_on_batch(images, labels)).reshape(-1)[0])
                verdicts[api][where] = "yes" if np.isfinite(loss) else f"no: loss {loss}"
            except Exception as error:
                verdicts[api][where] = f"no: {first_line(error)}"
            finally:
                leave()
    sharded = model_parallel(arch, images, labels) if backend == "jax" else {}
    for api in chosen.apis:
        verdicts[api]["model parallel"] = sharded.get(
            api, "n/a (Keras' ModelParallel runs on the JAX backend only)"
        )
    return verdicts


def model_parallel(arch: str, images, labels) -> dict[str, str]:
    """{api: verdict}: a ``keras.distribution.ModelParallel`` whose ``LayoutMap`` shards every kernel's last
    axis over 2 devices, keyed by the variable paths of the model it distributes (read off a copy built
    first, as a user reads them off their own model).  Each API's model is built under it and trained one
    step; the verdict counts the kernels whose value is really sharded (its sharding names the model axis).
    Keying every model by one model's paths would test the map's keys, not the API."""
    import jax
    import keras
    import numpy as np

    import implementations

    chosen = implementations.model_set(arch)
    mesh = keras.distribution.DeviceMesh((1, DEVICES), ["batch", "model"], devices=jax.devices("cpu")[:DEVICES])
    verdicts = {}
    for api in chosen.apis:
        try:
            keras.backend.clear_session()  # layer names restart, so the second build has the first's paths
            own = implementations.build(arch, api, seed=0)
            layout = keras.distribution.LayoutMap(mesh)
            for variable in own.weights:  # every kernel's last axis (filters, units) split over the devices
                if variable.path.endswith("kernel"):
                    layout[re.escape(variable.path)] = (None,) * (len(variable.shape) - 1) + ("model",)
            keras.backend.clear_session()  # it also drops the distribution: set it after
            keras.distribution.set_distribution(
                keras.distribution.ModelParallel(layout_map=layout, batch_dim_name="batch")
            )
            model = implementations.build(arch, api, seed=0)
            model.compile(optimizer=keras.optimizers.SGD(0.01), loss=chosen.training_loss())
            loss = float(np.asarray(model.train_on_batch(images, labels)).reshape(-1)[0])
            kernels = [v for v in model.weights if v.path.endswith("kernel")]
            split = sum("model" in str(v.value.sharding.spec) for v in kernels)
            if not np.isfinite(loss):
                verdicts[api] = f"no: loss {loss}"
            elif split == len(kernels):
                verdicts[api] = f"yes ({split} of {len(kernels)} kernels sharded by a map of its own paths)"
            else:
                verdicts[api] = (
                    f"{'partly' if split else 'no'}: {split} of {len(kernels)} kernels sharded by a map of its "
                    f"own paths (e.g. {kernels[0].path} is not)"
                )
        except Exception as error:
            verdicts[api] = f"no: {first_line(error)}"
        finally:
            keras.distribution.set_distribution(None)
    return verdicts


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    print(json.dumps(main(sys.argv[1])))
