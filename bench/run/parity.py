"""Parity of the APIs a models file gives, checked before anything is timed: are they the same model?

For every pair of APIs of a set: the same parameter count, the same output shapes on the same inputs, and,
where the weights transfer (the same list of weight shapes, by position or else in the order the layers are
called: a subclass may create its layers in another order than it calls them), the same outputs in inference
mode within :data:`RELATIVE_TOLERANCE` of their size.  A pair that differs stops ``bench run`` with one line that
names it and both figures: timing two different models would answer nothing.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np

import implementations
from implementations.loader import ModelsFileError

#: the largest output difference allowed after a weight transfer, relative to the largest output
#: (float32 sums in another order differ by a few units in the last place; a different model by far more)
RELATIVE_TOLERANCE = 1e-4
BATCH = 4


class ParityError(ValueError):
    """Two APIs of one models file are not the same model."""


def _outputs(model: keras.Model, x) -> list[np.ndarray]:
    return [np.asarray(keras.ops.convert_to_numpy(part)) for part in keras.tree.flatten(model(x, training=False))]


def weights_in_call_order(model: keras.Model, x) -> list:
    """``model``'s weights in the order a forward pass uses them: each layer's as it finishes its call (inner
    layers before the layer holding them), then any the pass did not reach."""
    finished: list = []
    real = keras.layers.Layer.__call__

    def recording(self, *args, **kwargs):
        result = real(self, *args, **kwargs)
        finished.append(self)
        return result

    keras.layers.Layer.__call__ = recording
    try:
        model(x, training=False)
    finally:
        keras.layers.Layer.__call__ = real
    ordered = {id(w): w for layer in finished for w in layer.weights}
    return list(ordered.values()) + [w for w in model.weights if id(w) not in ordered]


def _transferred_gap(a, b, x, out_a, in_call_order: bool) -> float | None:
    """The largest output difference after ``a``'s weights go into ``b`` (by position or in call order);
    None where the two lists of weight shapes differ."""
    wa, wb = (weights_in_call_order(m, x) if in_call_order else m.weights for m in (a, b))
    if [tuple(w.shape) for w in wa] != [tuple(w.shape) for w in wb]:
        return None
    for source, target in zip(wa, wb, strict=True):
        target.assign(keras.ops.convert_to_numpy(source))
    out_b = _outputs(b, x)
    return max(float(np.abs(p - q).max()) for p, q in zip(out_a, out_b, strict=True))


def check_pair(name: str, first: str, second: str, models: dict, x) -> str:
    """The parity line of APIs ``first`` and ``second`` of set ``name``; ParityError where they differ."""
    a, b = models[first], models[second]
    params = a.count_params(), b.count_params()
    if params[0] != params[1]:
        raise ParityError(f"parity: {name} {first} has {params[0]:,} parameters, {second} {params[1]:,}")
    out_a, out_b = _outputs(a, x), _outputs(b, x)
    shapes = [tuple(o.shape) for o in out_a], [tuple(o.shape) for o in out_b]
    if shapes[0] != shapes[1]:
        raise ParityError(f"parity: {name} {first} outputs {shapes[0]}, {second} {shapes[1]}")
    allowed = RELATIVE_TOLERANCE * (max(float(np.abs(o).max()) for o in out_a) or 1.0)
    by_position = _transferred_gap(a, b, x, out_a, in_call_order=False)
    if by_position is not None and by_position <= allowed:
        return f"parity: {name} {first} = {second}: {params[0]:,} parameters, outputs within {by_position:.2g}"
    in_call_order = _transferred_gap(a, b, x, out_a, in_call_order=True)
    if in_call_order is not None and in_call_order <= allowed:
        return (f"parity: {name} {first} = {second}: {params[0]:,} parameters, outputs within {in_call_order:.2g} "
                "(weights matched in the order the layers are called)")
    if by_position is None and in_call_order is None:
        return f"parity: {name} {first} = {second}: {params[0]:,} parameters, outputs {shapes[0]} " \
               "(weights do not transfer, by position or in call order: outputs not compared)"
    gap = min(g for g in (by_position, in_call_order) if g is not None)
    raise ParityError(
        f"parity: {name} {first} and {second} with the same weights differ by {gap:.3g} in their outputs "
        f"(allowed {allowed:.2g})"
    )


def check(arch: str) -> list[str]:
    """Parity lines of every pair of APIs of ``arch``; ParityError or ModelsFileError where it fails."""
    chosen = implementations.model_set(arch)
    models = {api: chosen.build(api, 0) for api in chosen.apis}
    x = chosen.sample_inputs(BATCH)
    for api, model in models.items():
        try:
            model(x, training=False)
        except Exception as error:
            first = (str(error).strip().splitlines() or [""])[0][:200]
            raise ModelsFileError(
                f"{chosen.origin}: the {api} model refuses the inputs of "
                f"{'sample_batch' if chosen.sampler else 'its keras.Input'}: {type(error).__name__}: {first}"
            ) from None
    y = chosen.sample_batch(BATCH)[1]
    trial = chosen.build(chosen.partner, 0)
    try:
        trial.compile(optimizer="sgd", loss=chosen.training_loss())
        trial.train_on_batch(x, y)
    except Exception as error:
        first = (str(error).strip().splitlines() or [""])[0][:200]
        raise ModelsFileError(
            f"{chosen.origin}: one train step of {chosen.partner} on the sample batch fails "
            f"(check LOSS and the labels of sample_batch): {type(error).__name__}: {first}"
        ) from None
    if len(models) == 1:
        only = next(iter(models))
        return [f"parity: {arch} gives {only} only ({models[only].count_params():,} parameters): nothing to compare"]
    return [check_pair(arch, a, b, models, x) for a, b in itertools.combinations(chosen.apis, 2)]
