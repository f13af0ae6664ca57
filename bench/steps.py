"""Building and compiling a registry model the way every benchmark does, and its timed steps."""

from __future__ import annotations

import contextlib

import keras
import numpy as np

import implementations
from bench.backend_ops import loss_function
from bench.profiles import Profile


@contextlib.contextmanager
def precision_policy(profile: Profile):
    """Use the mixed_float16 policy while building when the profile asks for mixed precision."""
    previous = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16" if profile.mixed_precision else "float32")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


def compiled_model(arch: str, api: str, profile: Profile, *, seed: int | None = None) -> keras.Model:
    """(arch, api) from the registry, compiled with the tutorial's recipe (Adam, SCCE from logits)."""
    with precision_policy(profile):
        model = implementations.build(arch, api, seed=profile.seed if seed is None else seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=loss_function(),
        metrics=["accuracy"],
        jit_compile=profile.jit_compile,
    )
    return model


def effective_jit(model: keras.Model) -> bool:
    """Whether Keras actually compiles ``model``'s steps with XLA/jit ("auto" resolved)."""
    return bool(getattr(model, "jit_compile", False))


def train_step(model: keras.Model, images: np.ndarray, labels: np.ndarray):
    """A callable running one compiled train step and returning its loss as a Python float.

    Reading the loss back to the host waits for the step to finish on the device,
    so a clock stopped after the call measures completed work.
    """

    def step() -> float:
        return float(np.asarray(model.train_on_batch(images, labels)).reshape(-1)[0])

    return step


def inference_step(model: keras.Model, images: np.ndarray):
    """A callable running the compiled predict function on ``images``; returns host logits."""

    def step() -> np.ndarray:
        return np.asarray(model.predict_on_batch(images))

    return step
