"""The tutorial's architectures written with each Keras API.

Public entry point::

    from implementations import ARCHS, APIS, build
    model = build("resnet", "functional", seed=0)

Architecture modules live in :mod:`implementations.archs` and are discovered
at import time, so a new architecture is one new module there.
"""

from __future__ import annotations

import importlib
import pkgutil

import keras

from implementations import archs as _archs_package
from implementations.blocks import SeedStream
from implementations.registry import APIS, Entry, entries

for _module in pkgutil.iter_modules(_archs_package.__path__):
    importlib.import_module(f"{_archs_package.__name__}.{_module.name}")

#: Architecture names, in registration order.
ARCHS: tuple[str, ...] = tuple(dict.fromkeys(arch for arch, _ in entries()))

__all__ = ["APIS", "ARCHS", "build", "entry", "cell_ids"]


def entry(arch: str, api: str) -> Entry:
    """The registry entry for (arch, api); ValueError naming the valid choices otherwise."""
    if arch not in ARCHS:
        raise ValueError(f"unknown architecture {arch!r}; valid architectures: {', '.join(ARCHS)}")
    if api not in APIS:
        raise ValueError(f"unknown API {api!r}; valid APIs: {', '.join(APIS)}")
    return entries()[(arch, api)]


def cell_ids() -> list[tuple[str, str]]:
    """Every (arch, api) pair, architectures outer, APIs in :data:`APIS` order."""
    return [(arch, api) for arch in ARCHS for api in APIS]


def build(
    arch: str,
    api: str,
    *,
    input_shape: tuple[int, ...] = (28, 28, 1),
    num_classes: int = 10,
    seed: int | None = None,
) -> keras.Model:
    """Build ``arch`` written with ``api``, with its weights already created.

    Args:
        arch: one of :data:`ARCHS`.
        api: one of :data:`APIS`.
        input_shape: shape of one image, channels last.
        num_classes: number of logits the model outputs.
        seed: with an int, every kernel initializer gets a seed derived from it
            in layer order, so the three APIs of one arch start from identical
            weights; ``None`` leaves initialization unseeded.

    Returns:
        A built ``keras.Model`` (``count_params()`` works without a call).
    """
    cell = entry(arch, api)
    model = cell.builder(tuple(input_shape), int(num_classes), SeedStream(seed))
    if not model.weights:
        # A subclassed model creates its weights on its first call; one
        # inference-mode call on zeros leaves BatchNorm statistics untouched.
        model(keras.ops.zeros((1, *input_shape)), training=False)
    return model
