"""``cnn``: the tutorial's Conv-BatchNorm-ReLU network, written with all three APIs: a models file
(:mod:`implementations.loader`) like any user's.

Three conv blocks (32, 64, 128 filters, 3x3, padding "same"), Flatten,
Dense(num_classes) logits: 1,097,098 parameters for 28x28x1 input and 10
classes, 448 of them BatchNorm moving statistics.
"""

from __future__ import annotations

import keras
from keras import layers

from implementations.blocks import (
    SERIALIZATION_PACKAGE,
    ConvBNReLU,
    SeedStream,
    apply_layers,
    conv_bn_relu,
    dense_head,
)

NAME = "cnn"
DATASET = "profile"  # the profile's 28x28x1 images, 10 classes
RESIDUAL = "none"
FILTERS = (32, 64, 128)
INPUT_SHAPE = (28, 28, 1)


def sequential(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """A flat Sequential stack of the shared conv-block layers."""
    seeds = SeedStream(seed)
    stack = [keras.Input(shape=input_shape)]
    for index, filters in enumerate(FILTERS):
        stack += conv_bn_relu(filters, seed=seeds.take(), name=f"block{index}")
    stack += [layers.Flatten(name="flatten"), dense_head(num_classes, seed=seeds.take())]
    return keras.Sequential(stack, name="cnn_sequential")


def _graph(seed, input_shape, num_classes):
    """(inputs, outputs) of the shared layers chained as a functional graph."""
    seeds = SeedStream(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for index, filters in enumerate(FILTERS):
        x = apply_layers(x, conv_bn_relu(filters, seed=seeds.take(), name=f"block{index}"))
    x = layers.Flatten(name="flatten")(x)
    return inputs, dense_head(num_classes, seed=seeds.take())(x)


def functional(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """The same layers chained as a functional graph."""
    inputs, outputs = _graph(seed, input_shape, num_classes)
    return keras.Model(inputs, outputs, name="cnn_functional")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class FunctionalSubclassCNN(keras.Model):
    """Functional Subclassing: a keras.Model subclass whose __init__ builds the functional graph."""

    def __init__(self, seed=None, input_shape=INPUT_SHAPE, num_classes=10, **kwargs):
        inputs, outputs = _graph(seed, tuple(input_shape), num_classes)
        super().__init__(inputs, outputs, **kwargs)
        self.seed, self.image_shape, self.num_classes = seed, tuple(input_shape), num_classes

    def get_config(self):
        return {"seed": self.seed, "input_shape": self.image_shape, "num_classes": self.num_classes,
                "name": self.name}  # fmt: skip


def functional_subclass(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """The functional graph inside a subclass, the pattern Keras recommends for distributing models."""
    return FunctionalSubclassCNN(seed, input_shape, num_classes, name="cnn_functional_subclass")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class SubclassedCNN(keras.Model):
    """The tutorial's subclassed model: ConvBNReLU blocks created in __init__, chained in call()."""

    def __init__(self, num_classes: int = 10, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.seed = seed
        seeds = SeedStream(seed)
        self.blocks = [ConvBNReLU(filters, seed=seeds.take()) for filters in FILTERS]
        self.flatten = layers.Flatten()
        self.head = dense_head(num_classes, seed=seeds.take())

    def call(self, inputs, training=False):
        x = inputs
        for block in self.blocks:
            x = block(x, training=training)
        return self.head(self.flatten(x))

    def get_config(self):
        return {"num_classes": self.num_classes, "seed": self.seed, "name": self.name}


def subclassing(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """The subclassed model; :func:`implementations.build` creates its weights with one call."""
    return SubclassedCNN(num_classes, seed=SeedStream(seed).take(len(FILTERS) + 1), name="cnn_subclassing")
