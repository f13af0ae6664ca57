"""One API only: a small convolutional classifier for 32x32 colour images (about 100k parameters),
written with the Functional API and nothing else; data() is a made-up, learnable task."""

import keras
import numpy as np
from keras import layers

NAME = "solo"


def functional(width=42):
    image = keras.Input((32, 32, 3), name="image")
    x = layers.Conv2D(width, 3, padding="same", activation="relu", name="conv1")(image)
    x = layers.MaxPooling2D(name="pool1")(x)
    x = layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv2")(x)
    x = layers.MaxPooling2D(name="pool2")(x)
    x = layers.Conv2D(2 * width, 3, padding="same", activation="relu", name="conv3")(x)
    x = layers.GlobalAveragePooling2D(name="pool3")(x)
    x = layers.Dense(width, activation="relu", name="hidden")(x)
    return keras.Model(image, layers.Dense(5, name="logits")(x), name="solo_functional")


def _examples(count, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, count)
    images = rng.normal(0, 1, (count, 32, 32, 3)).astype("float32")
    images[:, :, :, 0] += labels[:, None, None] * 0.5  # the class is in the red channel's brightness
    return images, labels


def data():
    return _examples(1024, 1), _examples(256, 2)
