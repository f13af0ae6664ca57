"""Parity of the APIs a models file gives, checked before anything is timed: are they the same model?

For every pair of APIs of a set: the same parameter count, the same output shapes on the same inputs, and,
where the weights transfer by position (the same list of weight shapes), the same outputs in inference mode
within :data:`RELATIVE_TOLERANCE` of their size.  A pair that differs stops ``bench run`` with one line that
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
    if [tuple(w.shape) for w in a.weights] != [tuple(w.shape) for w in b.weights]:
        return f"parity: {name} {first} = {second}: {params[0]:,} parameters, outputs {shapes[0]} " \
               "(weights do not transfer by position: outputs not compared)"
    b.set_weights(a.get_weights())
    out_b = _outputs(b, x)
    scale = max(float(np.abs(o).max()) for o in out_a) or 1.0
    gap = max(float(np.abs(p - q).max()) for p, q in zip(out_a, out_b, strict=True))
    if gap > RELATIVE_TOLERANCE * scale:
        raise ParityError(
            f"parity: {name} {first} and {second} with the same weights differ by {gap:.3g} in their outputs "
            f"(allowed {RELATIVE_TOLERANCE * scale:.2g})"
        )
    return f"parity: {name} {first} = {second}: {params[0]:,} parameters, outputs within {gap:.2g}"


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
