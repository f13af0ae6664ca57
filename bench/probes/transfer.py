"""What transfer learning needs, proven by outputs and weights: moving weights between the three APIs,
reaching a nested layer by name, freezing part of a model, and LoRA.

Each probe builds the model set's models, does the thing a user would, and says "yes" only when what
came out is what should have: the same logits (within :data:`TOLERANCE`), the frozen weights unchanged to
the bit while the rest moved, the same outputs after a ``.keras`` round trip.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import keras
import numpy as np

import implementations
from bench.probes.distributed import first_line
from bench.probes.portable import images, labels, logits

TOLERANCE = 1e-5
LORA_RANK = 4
#: the API whose weights the others load: the set's partner, Functional where given (the one Keras' guides
#: save from)
#: what a user can do where another API's weights file does not load
WHY_WEIGHTS = ("a .weights.h5 file follows the saving model's layer nesting: copy layer by layer with "
               "get_weights/set_weights, or save and load with the same API")  # fmt: skip


def _other_weights(arch: str, api: str) -> keras.Model:
    """``arch`` in ``api`` with other initial weights than the probes' seed 0, called once (built)."""
    model = implementations.model_set(arch).make(api, 5)
    logits(model, images())
    return model


def weights_across_apis(arch: str) -> dict[str, str]:
    """{api: verdict}: the partner model's ``save_weights`` file, loaded into each API's model."""
    chosen = implementations.model_set(arch)
    source = implementations.build(arch, chosen.partner, seed=0)
    expected = logits(source, images())
    verdicts = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "source.weights.h5"
        source.save_weights(path)
        for api in chosen.apis:
            target = _other_weights(arch, api)
            try:
                target.load_weights(path)
            except Exception as error:
                verdicts[api] = f"no: {first_line(error)} ({WHY_WEIGHTS})"
                continue
            gap = float(np.abs(logits(target, images()) - expected).max())
            verdicts[api] = "yes" if gap <= TOLERANCE else f"no: loaded, but the logits differ by {gap:.2g}"
    return verdicts


def weighted_leaves(model: keras.Model) -> list:
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if not layer._layers and layer.weights]  # fmt: skip


def get_layer_reach(model: keras.Model) -> str:
    """How many of the model's weighted layers ``model.get_layer(name)`` finds (it searches the top level)."""
    leaves = weighted_leaves(model)
    found = 0
    for layer in leaves:
        try:
            found += model.get_layer(layer.name) is layer
        except ValueError:
            pass
    if found == len(leaves):
        return f"yes ({found} weighted layers)"
    return (f"partly: {found} of {len(leaves)} weighted layers by name (the rest are nested: reach them "
            "through their parent's attributes, or build the model with the Functional API)")  # fmt: skip


def _compiled(model: keras.Model, arch: str) -> keras.Model:
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=implementations.model_set(arch).training_loss())
    return model


def _one_step(model: keras.Model) -> None:
    model.train_on_batch(images(), labels())


def _freeze_verdict(model: keras.Model, frozen: keras.layers.Layer) -> str:
    """One step of training: the frozen layer's weights exactly as before, some other weight moved."""
    before = {id(w): keras.ops.convert_to_numpy(w).copy() for w in model.weights}
    _one_step(model)
    mine = {id(w) for w in frozen.weights}
    moved_frozen = [w.path for w in model.weights if id(w) in mine
                    and not np.array_equal(keras.ops.convert_to_numpy(w), before[id(w)])]  # fmt: skip
    moved_rest = [w for w in model.weights if id(w) not in mine
                  and not np.array_equal(keras.ops.convert_to_numpy(w), before[id(w)])]  # fmt: skip
    if moved_frozen:
        return f"no: {len(moved_frozen)} frozen weight(s) moved, e.g. {moved_frozen[0]}"
    if not moved_rest:
        return "no: nothing trained"
    return "yes"


def freezing(arch: str, api: str) -> dict[str, str]:
    """``trainable = False`` on the first layer that holds weights, set before and after ``compile``."""
    verdicts = {}
    for when in ("before compile", "after compile"):
        model = implementations.build(arch, api, seed=0)
        logits(model, images())
        first = next(layer for layer in model.layers if layer.weights)
        try:
            if when == "before compile":
                first.trainable = False
                _compiled(model, arch)
            else:
                _compiled(model, arch)
                first.trainable = False
            verdicts[when] = _freeze_verdict(model, first)
        except Exception as error:
            verdicts[when] = f"no: {first_line(error)}"
    return verdicts


def lora(arch: str, api: str) -> str:
    """``enable_lora(rank)`` on every layer that offers it: fewer trainable parameters, one training step,
    and a ``.keras`` round trip that gives the same outputs."""
    model = implementations.build(arch, api, seed=0)
    logits(model, images())
    before = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    try:
        adapted = [layer for layer in weighted_leaves(model) if hasattr(layer, "enable_lora")]
        for layer in adapted:
            layer.enable_lora(LORA_RANK)
        after = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
        _compiled(model, arch)
        _one_step(model)
        expected = logits(model, images())
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "lora.keras"
            model.save(path)
            restored = keras.saving.load_model(path)
            gap = float(np.abs(logits(restored, images()) - expected).max())
    except Exception as error:
        return f"no: {first_line(error)}"
    if after >= before:
        return f"no: trainable parameters did not drop ({before:,} → {after:,})"
    if gap > TOLERANCE:
        return f"no: the reloaded model's logits differ by {gap:.2g}"
    return (
        f"yes (rank {LORA_RANK} on {len(adapted)} layers: trainable {before:,} → {after:,}; round trip same)"
    )
