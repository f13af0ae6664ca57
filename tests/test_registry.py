"""The public entry point: names, errors, and weights that exist on return."""

import numpy as np
import pytest

import implementations


def test_names():
    assert implementations.ARCHS == ("cnn", "resnet")
    assert implementations.APIS == ("sequential", "functional", "subclassing", "functional_subclass")
    assert implementations.model_set("cnn").apis == implementations.APIS  # the four styles Keras allows


@pytest.mark.parametrize(
    ("arch", "api", "listed"),
    [("vgg", "functional", "cnn, resnet"), ("cnn", "graph", "sequential, functional, subclassing, functional_subclass")],
)
def test_unknown_name_lists_valid_ones(arch, api, listed):
    with pytest.raises(ValueError, match=listed):
        implementations.build(arch, api)


def test_two_files_of_one_name_are_refused():
    with pytest.raises(ValueError, match="two models files are named 'cnn'"):
        implementations.load_sets(["implementations.archs.cnn", "implementations.archs.cnn"])


@pytest.mark.parametrize(("arch", "api"), implementations.cell_ids())
def test_weights_exist_on_return(arch, api):
    model = implementations.build(arch, api, input_shape=(28, 28, 1), num_classes=10)
    assert model.weights, "build() must return a model whose weights exist"
    assert model.count_params() > 0


@pytest.mark.parametrize("arch", implementations.ARCHS)
def test_same_seed_gives_identical_weights_in_every_api(arch):
    weights = {
        api: [w.numpy() for w in implementations.build(arch, api, seed=7).weights]
        for api in implementations.model_set(arch).apis
    }
    reference = weights["functional"]
    for api, values in weights.items():
        assert len(values) == len(reference)
        for mine, theirs in zip(values, reference, strict=True):
            assert (mine == theirs).all(), f"{arch}-{api} differs from functional with the same seed"


def test_other_shapes_and_class_counts():
    model = implementations.build("resnet", "subclassing", input_shape=(32, 32, 3), num_classes=4)
    assert tuple(model(np.zeros((2, 32, 32, 3), "float32")).shape) == (2, 4)
