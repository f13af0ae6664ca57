"""The tutorial's models written natively in each framework Keras runs on, without Keras.

Public entry point::

    from implementations import native
    model = native.build("cnn", "tensorflow", seed=0)
    model.load_keras_weights(keras_model)      # any of the three Keras APIs
    logits = model.predict(images)             # NHWC float32 in, logits out (inference mode)
    loss = model.train_step(images, labels)    # one Adam(1e-3) step, training-mode BatchNorm

They compute what the Keras models compute — same layers in the same order, Keras'
BatchNorm momentum and epsilon, Keras' Adam — so timing one against the other prices
Keras itself, and the benchmarks use the native ``cnn`` as their timing reference.
"""

from __future__ import annotations

import importlib

from implementations.native.layout import NATIVE_ARCHS

#: Frameworks with a native implementation, and the module that holds it.
FRAMEWORKS: dict[str, str] = {
    "tensorflow": "implementations.native.tf_models",
    "jax": "implementations.native.jax_models",
    "torch": "implementations.native.torch_models",
}

__all__ = ["FRAMEWORKS", "NATIVE_ARCHS", "NotInstalled", "build"]


class NotInstalled(ImportError):
    """The framework of a native model cannot be imported here."""


#: how each framework's own users compile a step; JAX's steps always run under jax.jit
_COMPILE_OPTION = {"tensorflow": "jit_compile", "torch": "compile", "jax": None}


def build(arch: str, framework: str, *, seed: int | None = None, compiled: bool = False):
    """The native ``arch`` in ``framework``, initialized like the Keras builders (Glorot uniform kernels).

    ``compiled``: XLA for TensorFlow's tf.function, torch.compile for PyTorch (JAX: always jit);
    the model's ``jit_compile`` says what it does.
    """
    if arch not in NATIVE_ARCHS:
        raise ValueError(f"no native {arch!r}; native architectures: {', '.join(NATIVE_ARCHS)}")
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}; valid frameworks: {', '.join(FRAMEWORKS)}")
    try:
        module = importlib.import_module(FRAMEWORKS[framework])
    except ImportError as error:
        raise NotInstalled(f"n/a: {framework} not installed ({error})") from None
    option = _COMPILE_OPTION[framework]
    return module.NativeModel(arch, seed=seed, **({option: compiled} if option else {}))
