"""Two inputs, an image and a vector of measurements, joined before the head: Sequential cannot
express it, so the file gives the other three APIs.  Its inputs are floats, so no sample_batch is
needed; it defines no data(), so its accuracy column reads n/a."""

import keras
from keras import layers

NAME = "twoinput"


def _graph():
    image = keras.Input((16, 16, 3), name="image")
    measurements = keras.Input((8,), name="measurements")
    x = layers.Conv2D(16, 3, activation="relu", name="conv")(image)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    y = layers.Dense(16, activation="relu", name="dense_m")(measurements)
    joined = layers.Concatenate(name="join")([x, y])
    return [image, measurements], layers.Dense(3, name="logits")(joined)


def functional():
    inputs, outputs = _graph()
    return keras.Model(inputs, outputs, name="two_functional")


class TwoInputs(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = layers.Conv2D(16, 3, activation="relu")
        self.pool = layers.GlobalAveragePooling2D()
        self.dense_m = layers.Dense(16, activation="relu")
        self.join = layers.Concatenate()
        self.head = layers.Dense(3)

    def call(self, inputs):
        image, measurements = inputs
        return self.head(self.join([self.pool(self.conv(image)), self.dense_m(measurements)]))


def subclassing():
    return TwoInputs(name="two_subclassing")


class TwoInputGraph(keras.Model):
    def __init__(self, **kwargs):
        inputs, outputs = _graph()
        super().__init__(inputs, outputs, **kwargs)


def functional_subclass():
    return TwoInputGraph(name="two_functional_subclass")
