"""A text classifier over integer token ids: embedding, mean over the sequence, two dense layers.

Its inputs are integers, which cannot be drawn at random from a keras.Input, so the file gives
sample_batch; data() is a made-up task (the class is which of four marker tokens a sequence holds).
"""

import keras
import numpy as np
from keras import layers

NAME = "textcls"
VOCAB, LENGTH, WIDTH, CLASSES = 2000, 40, 64, 4


def _layers():
    return [
        layers.Embedding(VOCAB, WIDTH, name="embed"),
        layers.GlobalAveragePooling1D(name="mean"),
        layers.Dense(WIDTH, activation="relu", name="hidden"),
        layers.Dense(CLASSES, name="logits"),
    ]


def sequential():
    return keras.Sequential([keras.Input((LENGTH,), dtype="int32"), *_layers()], name="text_sequential")


def functional():
    tokens = keras.Input((LENGTH,), dtype="int32", name="tokens")
    x = tokens
    for layer in _layers():
        x = layer(x)
    return keras.Model(tokens, x, name="text_functional")


class TextClassifier(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed, self.mean, self.hidden, self.head = _layers()

    def call(self, tokens):
        return self.head(self.hidden(self.mean(self.embed(tokens))))


def subclassing():
    return TextClassifier(name="text_subclassing")


class TextGraph(keras.Model):
    """Functional Subclassing: a subclass whose __init__ builds the graph."""

    def __init__(self, **kwargs):
        tokens = keras.Input((LENGTH,), dtype="int32", name="tokens")
        x = tokens
        for layer in _layers():
            x = layer(x)
        super().__init__(tokens, x, **kwargs)


def functional_subclass():
    return TextGraph(name="text_functional_subclass")


def _examples(count, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, CLASSES, count)
    tokens = rng.integers(CLASSES, VOCAB, (count, LENGTH))
    tokens[np.arange(count), rng.integers(0, LENGTH, count)] = labels  # the marker token
    return tokens.astype("int32"), labels


def sample_batch(batch_size):
    return _examples(batch_size, 0)


def data():
    return _examples(2048, 1), _examples(512, 2)
