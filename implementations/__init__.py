"""The models the suite measures: the tutorial's architectures, or the user's models files.

Public entry point::

    from implementations import ARCHS, build, model_set
    model = build("resnet", "functional", seed=0)

Every set of models comes in through :func:`implementations.loader.load`: the built-in ``cnn`` and ``resnet``
(:mod:`implementations.archs`) by default, or the models files named in ``$BENCH_MODELS`` (paths or module
names separated by ``os.pathsep``; ``bench run --models`` sets it), which then replace them.
"""

from __future__ import annotations

import os

import keras

from bench.core.kinds import APIS
from implementations.loader import ModelsFileError, ModelSet, load

#: where ``bench run --models`` hands its models files to the suite's processes
MODELS_ENV = "BENCH_MODELS"
BUILT_IN = ("implementations.archs.cnn", "implementations.archs.resnet")

__all__ = ["APIS", "ARCHS", "MODELS_ENV", "ModelSet", "ModelsFileError", "build", "cell_ids", "model_set",
           "load_sets", "specs"]  # fmt: skip


def specs() -> list[str]:
    """The models files of this process: ``$BENCH_MODELS``, else the built-in architectures."""
    given = [spec for spec in os.environ.get(MODELS_ENV, "").split(os.pathsep) if spec.strip()]
    return given or list(BUILT_IN)


def load_sets(given: list[str]) -> dict[str, ModelSet]:
    """{name: set} of the models files ``given``; ModelsFileError for a file that fails or a name twice."""
    sets: dict[str, ModelSet] = {}
    for spec in given:
        loaded = load(spec)
        if loaded.name in sets:
            raise ModelsFileError(
                f"two models files are named {loaded.name!r} ({sets[loaded.name].origin} and {spec}); "
                "set NAME in one of them"
            )
        sets[loaded.name] = loaded
    return sets


_LOADED: dict[tuple[str, ...], dict[str, ModelSet]] = {}


def _sets() -> dict[str, ModelSet]:
    """The sets of :func:`specs`, loaded once per list of files (``bench run --models`` sets it after
    this package may have been imported)."""
    given = tuple(specs())
    if given not in _LOADED:
        _LOADED[given] = load_sets(list(given))
    return _LOADED[given]


def __getattr__(name: str):
    if name == "ARCHS":  # the names of the model sets, in the order given
        return tuple(_sets())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def model_set(arch: str) -> ModelSet:
    """The set named ``arch``; ValueError naming the valid choices otherwise."""
    sets = _sets()
    if arch not in sets:
        raise ValueError(f"unknown architecture {arch!r}; valid architectures: {', '.join(sets)}")
    return sets[arch]


def cell_ids() -> list[tuple[str, str]]:
    """Every (arch, api) given, architectures outer, APIs in :data:`APIS` order."""
    return [(arch, api) for arch, chosen in _sets().items() for api in chosen.apis]


def build(arch: str, api: str, *, seed: int | None = None, **options) -> keras.Model:
    """Build ``arch`` written with ``api``, with its weights already created.

    Args:
        arch: one of :data:`ARCHS`.
        api: one of the APIs its models file gives.
        seed: with an int, two builds (and, for the built-in archs, the APIs of one arch) start from
            identical weights; ``None`` leaves initialization unseeded.
        options: passed on to a builder that takes them (the built-in archs take ``input_shape`` and
            ``num_classes``).
    """
    chosen = model_set(arch)
    if api not in chosen.builders:
        given = ", ".join(chosen.apis)
        raise ValueError(f"unknown API {api!r} for {arch}; valid APIs: {given}")
    return chosen.build(api, seed, **options)
