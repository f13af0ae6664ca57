"""What the native models share across frameworks: the layer plan, Keras' constants, initial weights.

A plan is the list of layers of an architecture in Keras' weight order, so
``keras_model.get_weights()`` maps onto it one array after another.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BN_MOMENTUM = 0.99  # keras.layers.BatchNormalization defaults
BN_EPSILON = 1e-3
ADAM_LEARNING_RATE = 1e-3  # keras.optimizers.Adam defaults, with the tutorial's learning rate
ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-7
IMAGE_SHAPE = (28, 28, 1)
NUM_CLASSES = 10


@dataclass(frozen=True)
class Conv:
    """Conv2D(filters, 3x3, padding "same") with bias, then BatchNorm, then ReLU."""

    in_channels: int
    out_channels: int
    kernel: int = 3


@dataclass(frozen=True)
class Projection:
    """The residual block's 1x1 Conv2D with bias (no BatchNorm) that maps its input onto the branch."""

    in_channels: int
    out_channels: int


@dataclass(frozen=True)
class Residual:
    """The tutorial's ResBlock: conv c0 -> conv c1, plus the projected input, -> conv c2 -> MaxPool 2x2."""

    in_channels: int
    channels: tuple[int, int, int]

    @property
    def layers(self) -> list:
        """Its weight-carrying layers in Keras' weight order (cnn0, cnn1, identity, cnn2)."""
        c0, c1, c2 = self.channels
        return [Conv(self.in_channels, c0), Conv(c0, c1), Projection(self.in_channels, c1), Conv(c1, c2)]


@dataclass(frozen=True)
class Dense:
    """The logits head after Flatten (NHWC order) or, with ``pool="average"``, GlobalAveragePooling2D."""

    in_features: int
    out_features: int
    pool: str = "flatten"


def cnn_plan() -> list:
    """The ``cnn``: three Conv-BN-ReLU blocks (32, 64, 128), Flatten (NHWC order), Dense(10)."""
    return [Conv(1, 32), Conv(32, 64), Conv(64, 128), Dense(28 * 28 * 128, NUM_CLASSES)]


def resnet_plan() -> list:
    """The ``resnet``: three residual blocks, GlobalAveragePooling2D, Dense(10)."""
    return [
        Residual(1, (32, 32, 64)),
        Residual(64, (128, 128, 256)),
        Residual(256, (128, 256, 512)),
        Dense(512, NUM_CLASSES, pool="average"),
    ]


NATIVE_ARCHS = {"cnn": cnn_plan, "resnet": resnet_plan}


def weight_layers(plan: list) -> list:
    """The plan's weight-carrying layers, residual blocks opened, in Keras' weight order."""
    return [layer for item in plan for layer in (item.layers if isinstance(item, Residual) else [item])]


def _glorot(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, fan_out: int) -> np.ndarray:
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, shape).astype(np.float32)


def initial_weights(plan: list, seed: int | None) -> list[np.ndarray]:
    """Arrays in Keras' get_weights() order: per Conv kernel (HWIO), bias, gamma, beta, moving mean,
    moving variance; per Projection and Dense kernel, bias.  Kernels Glorot-uniform, the rest as Keras'."""
    rng = np.random.default_rng(seed)
    weights: list[np.ndarray] = []
    for layer in weight_layers(plan):
        if isinstance(layer, Conv):
            k, cin, cout = layer.kernel, layer.in_channels, layer.out_channels
            weights += [
                _glorot(rng, (k, k, cin, cout), k * k * cin, k * k * cout),
                np.zeros(cout, np.float32),
                np.ones(cout, np.float32),
                np.zeros(cout, np.float32),
                np.zeros(cout, np.float32),
                np.ones(cout, np.float32),
            ]
        elif isinstance(layer, Projection):
            cin, cout = layer.in_channels, layer.out_channels
            weights += [_glorot(rng, (1, 1, cin, cout), cin, cout), np.zeros(cout, np.float32)]
        else:
            weights += [
                _glorot(rng, (layer.in_features, layer.out_features), layer.in_features, layer.out_features),
                np.zeros(layer.out_features, np.float32),
            ]
    return weights


def trainable_mask(plan: list) -> list[bool]:
    """For each array of initial_weights(): True for parameters, False for BatchNorm moving statistics."""
    mask: list[bool] = []
    for layer in weight_layers(plan):
        mask += [True] * 4 + [False] * 2 if isinstance(layer, Conv) else [True] * 2
    return mask


def averaged_batch_statistics(statistics_from_zero, batches) -> list[np.ndarray]:
    """Each BatchNorm moving statistic set to the plain mean of its batch statistics over ``batches``.

    ``statistics_from_zero(images)`` runs one training-mode forward pass with every moving statistic
    first set to zero and returns them after it: the momentum update leaves (1 - momentum) x the
    batch's statistic, whatever the framework.  This is what :func:`bench.run.steps.recalibrate_batchnorm`
    does for the Keras models, so native and Keras accuracies follow one recipe.
    """
    totals, count = None, 0
    for images in batches:
        statistics = [np.asarray(s, np.float64) / (1 - BN_MOMENTUM) for s in statistics_from_zero(images)]
        totals = statistics if totals is None else [t + s for t, s in zip(totals, statistics, strict=True)]
        count += 1
    if not count:
        raise ValueError("no batches to average BatchNorm statistics over")
    return [(t / count).astype(np.float32) for t in totals]


def count_params(plan: list) -> int:
    """Parameters as Keras counts them: BatchNorm moving statistics included."""
    return int(sum(w.size for w in initial_weights(plan, 0)))


def keras_weights(keras_model, plan: list) -> list[np.ndarray]:
    """``keras_model``'s weights in the plan's order, checked against the plan's shapes."""
    weights = [np.asarray(w, dtype=np.float32) for w in keras_model.get_weights()]
    expected = [w.shape for w in initial_weights(plan, 0)]
    if [w.shape for w in weights] != expected:
        raise ValueError(
            f"{keras_model.name}: weight shapes {[w.shape for w in weights]} do not match the native plan"
        )
    return weights
