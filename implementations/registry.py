"""The registry of model builders: one entry per (architecture, API) cell.

Every architecture module in :mod:`implementations.archs` registers its three
builders with :func:`register`; tests, benchmarks and the report iterate over
the registry, so adding an architecture means adding one module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import keras

from bench.core.kinds import APIS  # the three ways Keras can express a model, in report order

#: How a builder's residual connections are expressed, for the capability matrix.
RESIDUAL_NONE = "none"
RESIDUAL_NATIVE = "native"
RESIDUAL_CUSTOM_LAYER = "via custom layer"


@dataclass(frozen=True)
class Entry:
    """One registered builder.

    Attributes:
        arch: architecture name, e.g. ``"resnet"``.
        api: one of :data:`APIS`.
        builder: ``builder(input_shape, num_classes, seeds) -> keras.Model``
            returning an unbuilt or built model.
        residual: how skip connections are written (one of the RESIDUAL_* values).
        sources: the functions and classes that make up this implementation;
            their source lines are what the report counts as lines of code.
    """

    arch: str
    api: str
    builder: Callable[..., keras.Model]
    residual: str
    sources: tuple[object, ...]


_ENTRIES: dict[tuple[str, str], Entry] = {}


def register(
    arch: str, api: str, *, residual: str = RESIDUAL_NONE, uses: tuple[object, ...] = ()
) -> Callable:
    """Decorator registering ``builder`` for the cell (arch, api); refuses duplicates.

    Args:
        residual: how this implementation writes skip connections.
        uses: the custom classes and helpers this API needs beyond the layer
            constructors all three share; counted with the builder as its code.
    """
    if api not in APIS:
        raise ValueError(f"unknown API {api!r}; valid APIs: {', '.join(APIS)}")

    def decorate(builder: Callable[..., keras.Model]) -> Callable[..., keras.Model]:
        key = (arch, api)
        if key in _ENTRIES:
            raise ValueError(f"{arch}-{api} is already registered")
        _ENTRIES[key] = Entry(arch, api, builder, residual, (builder, *uses))
        return builder

    return decorate


def entries() -> dict[tuple[str, str], Entry]:
    """All registered cells, keyed by (arch, api)."""
    return dict(_ENTRIES)
