"""``resnet``: the tutorial's ResNet_Like, written with all three APIs.

Three residual blocks with channels [32, 32, 64], [128, 128, 256] and
[128, 256, 512] (outputs 14x14x64, 7x7x256, 3x3x512 for 28x28 input), then
GlobalAveragePooling2D and Dense(num_classes): 2,400,490 parameters.

A Sequential model cannot express a skip connection, so the Sequential
implementation stacks :class:`~implementations.blocks.ResidualBlock` custom
layers; RESIDUAL records that as "via custom layer".  A models file (:mod:`implementations.loader`).
"""

from __future__ import annotations

import keras
from keras import layers

from implementations.blocks import (
    SERIALIZATION_PACKAGE,
    ConvBNReLU,
    ResidualBlock,
    SeedStream,
    dense_head,
    residual_block_functional,
)

NAME = "resnet"
DATASET = "profile"  # the profile's 28x28x1 images, 10 classes
RESIDUAL = {"sequential": "via custom layer", "functional": "native", "subclassing": "native",
            "functional_subclass": "native"}  # fmt: skip
USES = {"functional": (residual_block_functional,), "functional_subclass": (residual_block_functional,)}
INPUT_SHAPE = (28, 28, 1)
BLOCK_CHANNELS = ((32, 32, 64), (128, 128, 256), (128, 256, 512))
SEEDS_PER_BLOCK = 4  # cnn0, cnn1, identity, cnn2


def sequential(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """A Sequential stack whose residual blocks are ResidualBlock custom layers."""
    seeds = SeedStream(seed)
    stack = [keras.Input(shape=input_shape)]
    for index, channels in enumerate(BLOCK_CHANNELS):
        stack.append(ResidualBlock(channels, seed=seeds.take(SEEDS_PER_BLOCK), name=f"block{index}"))
    stack += [layers.GlobalAveragePooling2D(name="pool"), dense_head(num_classes, seed=seeds.take())]
    return keras.Sequential(stack, name="resnet_sequential")


def _graph(seed, input_shape, num_classes):
    """(inputs, outputs): residual blocks as functional graph edges, the skip connection an Add of two tensors."""
    seeds = SeedStream(seed)
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for index, channels in enumerate(BLOCK_CHANNELS):
        x = residual_block_functional(x, channels, seeds=seeds, name=f"block{index}")
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    return inputs, dense_head(num_classes, seed=seeds.take())(x)


def functional(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """Residual blocks as functional graph edges: the skip connection is an Add of two tensors."""
    inputs, outputs = _graph(seed, input_shape, num_classes)
    return keras.Model(inputs, outputs, name="resnet_functional")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class FunctionalSubclassResNet(keras.Model):
    """Functional Subclassing: a keras.Model subclass whose __init__ builds the residual graph."""

    def __init__(self, seed=None, input_shape=INPUT_SHAPE, num_classes=10, **kwargs):
        inputs, outputs = _graph(seed, tuple(input_shape), num_classes)
        super().__init__(inputs, outputs, **kwargs)
        self.seed, self.image_shape, self.num_classes = seed, tuple(input_shape), num_classes

    def get_config(self):
        return {"seed": self.seed, "input_shape": self.image_shape, "num_classes": self.num_classes,
                "name": self.name}  # fmt: skip


def functional_subclass(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """The residual graph inside a subclass, the pattern Keras recommends for distributing models."""
    return FunctionalSubclassResNet(seed, input_shape, num_classes, name="resnet_functional_subclass")


@keras.saving.register_keras_serializable(package=SERIALIZATION_PACKAGE)
class SubclassedResNet(keras.Model):
    """The tutorial's ResNet_Like: ResidualBlock layers made in __init__, skip connections in their call()."""

    def __init__(self, num_classes: int = 10, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.seed = seed
        seeds = SeedStream(seed)
        self.blocks = [
            ResidualBlock(channels, seed=seeds.take(SEEDS_PER_BLOCK)) for channels in BLOCK_CHANNELS
        ]
        self.pool = layers.GlobalAveragePooling2D()
        self.head = dense_head(num_classes, seed=seeds.take())

    def call(self, inputs, training=False):
        x = inputs
        for block in self.blocks:
            x = block(x, training=training)
        return self.head(self.pool(x))

    def get_config(self):
        return {"num_classes": self.num_classes, "seed": self.seed, "name": self.name}


def subclassing(seed=None, input_shape=INPUT_SHAPE, num_classes=10) -> keras.Model:
    """The subclassed model; :func:`implementations.build` creates its weights with one call."""
    return SubclassedResNet(
        num_classes, seed=SeedStream(seed).take(SEEDS_PER_BLOCK * len(BLOCK_CHANNELS) + 1),
        name="resnet_subclassing",
    )
