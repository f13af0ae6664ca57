"""Building and compiling a models file's model the way every benchmark does, and its timed steps."""

from __future__ import annotations

import contextlib
import copy

import keras
import numpy as np

import implementations
from bench.core.kinds import NATIVE
from bench.core.profiles import Profile


def first_examples(x, count: int):
    """The first ``count`` examples of a batch of inputs (an array, or a list or dict of arrays)."""
    return keras.tree.map_structure(lambda array: array[:count], x)


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
    """(arch, api) from its models file, compiled with the tutorial's recipe (Adam; the file's loss, SCCE
    from logits by default)."""
    with precision_policy(profile):
        model = implementations.build(arch, api, seed=profile.seed if seed is None else seed)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=implementations.model_set(arch).training_loss(),
        metrics=copy.deepcopy(implementations.model_set(arch).accuracy_metrics),  # each model its own list
        jit_compile=profile.jit_compile,
    )
    return model


def recalibrate_batchnorm(model: keras.Model, images: np.ndarray, *, batches: int, batch_size: int) -> int:
    """Set every BatchNormalization's moving statistics to the average over ``batches`` training batches.

    Each batch runs in training mode with the layer's momentum set to i/(i+1), so the moving
    statistics end as the plain mean of the batch statistics; the momenta are restored after.
    Returns how many batches were used (0 when the model has no BatchNormalization).
    """
    norms = [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    batches = min(batches, len(images) // batch_size)
    if not norms or batches < 1:
        return 0
    momenta = [layer.momentum for layer in norms]
    try:
        for index in range(batches):
            for layer in norms:
                layer.momentum = index / (index + 1)
            model(images[index * batch_size : (index + 1) * batch_size], training=True)
    finally:
        for layer, momentum in zip(norms, momenta, strict=True):
            layer.momentum = momentum
    return batches




def native_skip_reason(profile: Profile) -> str | None:
    """Why this profile runs no native cell ("n/a: ..."), or None when it does."""
    if not profile.native:
        return f"n/a: the {profile.name} profile times no native models"
    if profile.mixed_precision:
        return "n/a: the native models run in float32 only"
    return None


def timed_model(arch: str, api: str, profile: Profile):
    """What a timed cell measures: the compiled Keras model, or for ``api == "native"`` the native model
    of the backend's framework started from the Functional model's weights.  Skips a native cell the
    profile or this machine cannot run, with the reason."""
    if api != NATIVE:
        return compiled_model(arch, api, profile)
    import pytest

    from bench.run.backend_ops import backend_name
    from implementations import native

    reason = native_skip_reason(profile)
    if reason:
        pytest.skip(reason)
    try:
        # BENCH_JIT=true compiles the native step too (XLA, torch.compile); recorded as the cell's "jit"
        model = native.build(arch, backend_name(), seed=profile.seed, compiled=profile.jit == "true")
    except native.NotInstalled as missing:
        pytest.skip(str(missing))
    model.load_keras_weights(compiled_model(arch, "functional", profile))
    return model


def effective_jit(model) -> bool:
    """Whether Keras (or the native model) actually compiles the steps with XLA/jit ("auto" resolved)."""
    return bool(getattr(model, "jit_compile", False))


def train_step(model, images: np.ndarray, labels: np.ndarray):
    """A callable running one compiled train step and returning its loss as a Python float.

    Reading the loss back to the host waits for the step to finish on the device,
    so a clock stopped after the call measures completed work.
    """

    if not isinstance(model, keras.Model):  # a native model
        return lambda: model.train_step(images, labels)

    def step() -> float:
        return float(np.asarray(model.train_on_batch(images, labels)).reshape(-1)[0])

    return step


def inference_step(model, images: np.ndarray):
    """A callable running the compiled predict function on ``images``; returns host logits."""
    if not isinstance(model, keras.Model):  # a native model
        return lambda: model.predict(images)

    def step() -> np.ndarray:
        outputs = keras.tree.flatten(model.predict_on_batch(images))
        return np.concatenate([np.reshape(part, (len(part), -1)) for part in map(np.asarray, outputs)], axis=1)

    return step
