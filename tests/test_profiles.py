"""Profiles and the switches that change them; every change must reach the recorded settings."""

import pytest

from bench.core.profiles import PROFILES, get_profile


def test_quick_is_the_default_and_uses_offline_data(monkeypatch):
    monkeypatch.delenv("BENCH_PROFILE", raising=False)
    profile = get_profile()
    assert profile.name == "quick" and profile.datasets == ("mnist-5k",)
    assert PROFILES["full"].datasets == ("mnist", "fashion-mnist")


def test_environment_chooses_the_profile(monkeypatch):
    monkeypatch.setenv("BENCH_PROFILE", "ci")
    assert get_profile().name == "ci"


def test_jit_and_mixed_precision_switches_are_recorded(monkeypatch):
    monkeypatch.setenv("BENCH_JIT", "false")
    monkeypatch.setenv("BENCH_MIXED_PRECISION", "1")
    profile = get_profile("full")
    assert profile.jit_compile is False and profile.mixed_precision is True
    assert profile.to_dict()["jit"] == "false" and profile.to_dict()["mixed_precision"] is True


def test_overrides_are_applied_and_named(monkeypatch):
    monkeypatch.setenv("BENCH_OVERRIDES", '{"epochs": {"cnn": 1, "resnet": 2}, "train_rounds": 3}')
    profile = get_profile("full")
    assert profile.epochs == {"cnn": 1, "resnet": 2} and profile.train_rounds == 3
    assert profile.overridden == ["epochs", "train_rounds"]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("BENCH_PROFILE", "huge", "valid profiles: quick, full, ci, smoke"),
        ("BENCH_JIT", "maybe", "BENCH_JIT must be auto, true or false"),
        ("BENCH_OVERRIDES", "{epochs: 3", "BENCH_OVERRIDES is not JSON"),
        ("BENCH_OVERRIDES", '{"colour": "red"}', "unknown profile fields: colour"),
        ("BENCH_OVERRIDES", '{"partner": "sequential"}', "partner must be one of functional, reference"),
    ],
)
def test_bad_switches_are_refused(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValueError, match=message):
        get_profile()


def test_fallback_dataset_has_its_own_target():
    full = PROFILES["full"]
    assert full.target_for("cnn", "mnist") == 0.985
    assert full.target_for("cnn", "fashion-mnist") == 0.90


def test_api_ratios_are_paired_except_in_the_regression_check():
    assert {name: profile.partner for name, profile in PROFILES.items()} == {
        "quick": "functional",
        "full": "functional",
        "ci": "reference",  # a Keras slowdown must not cancel
        "smoke": "functional",
    }
    assert PROFILES["quick"].threads == PROFILES["ci"].threads == 1  # one timing basis
