"""The transfer-learning probes read what happened: weights moved between APIs, layers reached by name,
frozen weights unchanged, LoRA's fewer parameters and its round trip; each broken on purpose flips."""

from __future__ import annotations

import dataclasses

import keras
import pytest

import implementations
from bench.probes import transfer


def test_weights_move_between_graph_models_not_into_nested_ones():
    verdicts = transfer.weights_across_apis("cnn")
    assert verdicts["functional"] == verdicts["sequential"] == "yes"
    assert (
        verdicts["subclassing"].startswith("no: ValueError")
        and transfer.WHY_WEIGHTS in verdicts["subclassing"]
    )


def test_a_model_whose_layers_differ_does_not_take_the_weights(monkeypatch):
    """Broken on purpose: the Sequential builder makes the subclassed model (other nesting, other paths)."""
    real = implementations.model_set("cnn")
    broken = dataclasses.replace(real, builders={**real.builders, "sequential": real.builders["subclassing"]})
    monkeypatch.setattr(implementations, "model_set", lambda arch: broken)
    assert transfer.weights_across_apis("cnn")["sequential"].startswith("no: ")


def test_get_layer_reaches_only_top_level_layers():
    flat = implementations.build("cnn", "functional", seed=0)
    transfer.logits(flat, transfer.images())
    assert transfer.get_layer_reach(flat) == "yes (7 weighted layers)"
    nested = keras.Sequential([flat])  # broken on purpose: the same layers, one level down
    transfer.logits(nested, transfer.images())
    assert transfer.get_layer_reach(nested).startswith("partly: 0 of 7 weighted layers by name")


@pytest.mark.parametrize("api", implementations.model_set("cnn").apis)
def test_freezing_keeps_the_frozen_weights_before_and_after_compile(api):
    assert transfer.freezing("cnn", api) == {"before compile": "yes", "after compile": "yes"}


def test_a_freeze_that_does_not_hold_is_a_no(monkeypatch):
    """Broken on purpose: setting trainable does nothing, so the 'frozen' block trains on."""
    monkeypatch.setattr(
        keras.layers.Layer, "trainable", property(lambda self: True, lambda self, value: None)
    )
    verdicts = transfer.freezing("cnn", "functional")
    assert all(v.startswith("no: ") and "frozen weight(s) moved" in v for v in verdicts.values()), verdicts


def test_lora_drops_trainable_parameters_and_survives_a_round_trip():
    verdict = transfer.lora("cnn", "subclassing")
    assert verdict.startswith("yes (rank 4 on 4 layers: trainable 1,096,650 → ")


def test_lora_that_adds_nothing_or_does_not_reload_is_a_no(monkeypatch):
    with monkeypatch.context() as patch:  # enable_lora does nothing
        for layer in (keras.layers.Conv2D, keras.layers.Dense):
            patch.setattr(layer, "enable_lora", lambda self, rank, **kwargs: None)
        assert transfer.lora("cnn", "functional").startswith("no: trainable parameters did not drop")
    # the reloaded model comes back without its trained adapters: another model's weights
    monkeypatch.setattr(
        keras.saving, "load_model", lambda path, **kwargs: implementations.build("cnn", "functional", seed=3)
    )
    assert transfer.lora("cnn", "functional").startswith("no: the reloaded model's logits differ by")
