"""Layer constructors shared by every API, so the only difference between the
three implementations of an architecture is the API itself.

The tutorial's building block is Conv2D -> BatchNormalization -> ReLU;
:func:`conv_bn_relu` returns fresh layers for it, which the Sequential and
Functional builders use directly and :class:`ConvBNReLU` wraps for the
subclassing API.  :class:`ResidualBlock` is the tutorial's ResBlock as a
custom layer: the subclassing ``resnet`` uses it, and so does the Sequential
``resnet``, because a Sequential stack cannot express a skip connection itself.

Everything here is backend-neutral Keras 3 (``keras.layers``, ``keras.ops``).
"""

from __future__ import annotations

import keras
from keras import layers

SERIALIZATION_PACKAGE = "implementations"


class SeedStream:
    """Hands out consecutive kernel-initializer seeds in layer order.

    With the same base seed, builders that create their layers in the same
    order (all three APIs of an arch do) get identical initial weights.
    With ``base=None`` every seed is ``None`` (unseeded initialization).
    """

    def __init__(self, base: int | None) -> None:
        self._next = base

    def take(self, count: int = 1) -> int | None:
        """The first of ``count`` consecutive seeds, advancing the stream past them."""
        if self._next is None:
            return None
        first = self._next
        self._next += count
        return first


def _kernel_init(seed: int | None) -> keras.initializers.Initializer:
    return keras.initializers.GlorotUniform(seed=seed)


def conv_bn_relu(
    filters: int, *, seed: int | None, kernel_size: int = 3, name: str | None = None
) -> list[layers.Layer]:
    """Fresh [Conv2D (padding "same"), BatchNormalization, ReLU] layers."""
    prefix = f"{name}_" if name else ""
    kwargs = {"name": f"{prefix}conv"} if name else {}
    return [
        layers.Conv2D(filters, kernel_size, padding="same", kernel_initializer=_kernel_init(seed), **kwargs),
        layers.BatchNormalization(**({"name": f"{prefix}bn"} if name else {})),
        layers.ReLU(**({"name": f"{prefix}relu"} if name else {})),
    ]


def identity_projection(filters: int, *, seed: int | None, name: str | None = None) -> layers.Layer:
    """The 1x1 Conv2D that maps a residual block's input onto its branch ("identity mapping")."""
    kwargs = {"name": name} if name else {}
    return layers.Conv2D(filters, 1, padding="same", kernel_initializer=_kernel_init(seed), **kwargs)


def dense_head(num_classes: int, *, seed: int | None, name: str = "logits") -> layers.Layer:
    """The classifier: Dense(num_classes) emitting logits."""
    return layers.Dense(num_classes, kernel_initializer=_kernel_init(seed), name=name)


def apply_layers(x, stack: list[layers.Layer]):
    """Run ``x`` through ``stack`` in order (for functional graphs)."""
    for layer in stack:
        x = layer(x)
    return x


def residual_block_functional(x, channels: tuple[int, int, int], *, seeds: SeedStream, name: str):
    """The tutorial's residual block written as functional graph edges.

    conv block c0 -> conv block c1; the input through a 1x1 Conv2D(c1) is added
    to that; the sum -> conv block c2 -> MaxPooling2D(2).  Seeds are drawn in
    the same order as :class:`ResidualBlock` draws them.
    """
    c0, c1, c2 = channels
    branch = apply_layers(x, conv_bn_relu(c0, seed=seeds.take(), name=f"{name}_cnn0"))
    branch = apply_layers(branch, conv_bn_relu(c1, seed=seeds.take(), name=f"{name}_cnn1"))
    shortcut = identity_projection(c1, seed=seeds.take(), name=f"{name}_identity")(x)
    merged = layers.Add(name=f"{name}_add")([branch, shortcut])
    merged = apply_layers(merged, conv_bn_relu(c2, seed=seeds.take(), name=f"{name}_cnn2"))
    return layers.MaxPooling2D(2, name=f"{name}_pool")(merged)


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class ConvBNReLU(layers.Layer):
    """Conv2D -> BatchNormalization -> ReLU as one custom layer (the tutorial's CNNBlock)."""

    def __init__(self, filters: int, kernel_size: int = 3, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.filters = filters
        self.kernel_size = kernel_size
        self.seed = seed
        self.conv, self.bn, self.relu = conv_bn_relu(filters, seed=seed, kernel_size=kernel_size)

    def build(self, input_shape):
        self.conv.build(input_shape)
        conv_shape = self.conv.compute_output_shape(input_shape)
        self.bn.build(conv_shape)
        self.relu.build(conv_shape)

    def call(self, inputs, training=False):
        return self.relu(self.bn(self.conv(inputs), training=training))

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class ResidualBlock(layers.Layer):
    """The tutorial's ResBlock as a custom layer; same computation as :func:`residual_block_functional`.

    Args:
        channels: [c0, c1, c2] filters of the three conv blocks.
        seed: first of four consecutive kernel seeds (cnn0, cnn1, identity, cnn2).
    """

    def __init__(self, channels, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.channels = tuple(int(c) for c in channels)
        if len(self.channels) != 3:
            raise ValueError(f"ResidualBlock needs three channel counts, got {channels!r}")
        self.seed = seed
        seeds = SeedStream(seed)
        c0, c1, c2 = self.channels
        self.cnn0 = ConvBNReLU(c0, seed=seeds.take())
        self.cnn1 = ConvBNReLU(c1, seed=seeds.take())
        self.identity = identity_projection(c1, seed=seeds.take())
        self.cnn2 = ConvBNReLU(c2, seed=seeds.take())
        self.merge = layers.Add()
        self.pool = layers.MaxPooling2D(2)

    def build(self, input_shape):
        self.cnn0.build(input_shape)
        shape0 = self.cnn0.compute_output_shape(input_shape)
        self.cnn1.build(shape0)
        self.identity.build(input_shape)
        self.cnn2.build(self.cnn1.compute_output_shape(shape0))

    def call(self, inputs, training=False):
        branch = self.cnn1(self.cnn0(inputs, training=training), training=training)
        merged = self.merge([branch, self.identity(inputs)])
        return self.pool(self.cnn2(merged, training=training))

    def compute_output_shape(self, input_shape):
        batch, height, width, _ = input_shape
        return (
            batch,
            None if height is None else height // 2,
            None if width is None else width // 2,
            self.channels[2],
        )

    def get_config(self):
        return {**super().get_config(), "channels": list(self.channels), "seed": self.seed}
