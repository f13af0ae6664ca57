"""The benchmark kinds and the names derived from them: one definition for the suite, the check and the reports.

A benchmark's kind is its test function's name without ``test_`` (``test_train_throughput[cnn-sequential]``
is a ``train_throughput`` benchmark of the cell ``cnn-sequential``).
"""

from __future__ import annotations

#: the ways Keras can express a model, in the order reports list them: the builder names of a models file
#: (implementations.loader).  ``functional_subclass`` is a keras.Model subclass whose __init__ builds a graph
#: and hands it to ``super().__init__(inputs, outputs)``, the pattern Keras recommends for distributing models.
APIS: tuple[str, ...] = ("sequential", "functional", "subclassing", "functional_subclass")


def api_label(api: str) -> str:
    """How a report names an API: ``Functional subclass`` for ``functional_subclass``."""
    return api.replace("_", " ").capitalize()


#: the "API" name of the cells that time the native models (no Keras)
NATIVE = "native"

#: kinds timed in rounds paired with a partner workload, in the order reports show them, with their label
TIMED = (
    ("train_throughput", "train step"),
    ("inference_throughput", "predict"),
    ("latency_batch1", "batch 1"),
)
TIMED_KINDS = tuple(kind for kind, _ in TIMED)
#: kinds the regression check reports but never fails on (first-step time and memory spread too much)
WARN_ONLY_KINDS = ("first_step_and_memory",)
#: the cell whose train step and batched predict the evidence campaigns and the absolute-time gate measure
GATE_TARGET = "cnn-functional"
#: the kinds of the absolute-time gate's index
GATE_KINDS = ("train_throughput", "inference_throughput")


def pair_suffix(pair: int) -> str:
    """The suffix of a results file's name for side-by-side pair ``pair`` of one check or trial
    (1: none, 2: ``-again``, 3: ``-again-2``, ...)."""
    if pair < 1:
        raise ValueError(f"pair numbers start at 1, not {pair}")
    return "" if pair == 1 else "-again" if pair == 2 else f"-again-{pair - 1}"
