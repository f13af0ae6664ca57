"""The absolute-CPU-time gate sees slower framework kernels, which the normalized check cancels, at a
threshold calibrated per CPU model from stored A/A pairs run side by side."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench import evidence, framework_gate
from bench.results import ResultsError
from bench.rule_simulation import a_a_pairs
from tests.test_compare import synthetic_results, write

ROOT = Path(__file__).resolve().parent.parent
AMD = ROOT / "reports" / "evidence" / "amd"
CALIBRATED = {"cpu_models": {"AMD EPYC": {"threshold": 0.05}}}


def test_the_index_is_the_geometric_mean_of_train_and_batched_predict_absolute_times():
    """Batch 1 is left out: its absolute time spreads 9-10% between two processes side by side."""
    base = synthetic_results(3)
    names = [b["name"] for b in base["benchmarks"] if "cpu_round_s" in b["extra_info"]]
    train = [n for n in names if n.startswith("test_train_throughput")]
    batch1 = [n for n in names if n.startswith("test_latency_batch1")]
    assert train and batch1
    same_host_slower_kernels = synthetic_results(3, kernel_factor=1.1)
    assert framework_gate.absolute_index(base, same_host_slower_kernels) == pytest.approx(1.1)
    one_slower = synthetic_results(3, slowdown={train[0]: 1.6})
    counted = framework_gate.absolute_ratios(base, one_slower)
    assert counted[train[0]] == pytest.approx(1.6) and not set(batch1) & set(counted)
    expected = 1.6 ** (1 / len(counted))
    assert framework_gate.absolute_index(base, one_slower) == pytest.approx(expected)
    only_batch1 = synthetic_results(3, slowdown=dict.fromkeys(batch1, 1.6))
    assert framework_gate.absolute_index(base, only_batch1) == pytest.approx(1.0)


@pytest.mark.parametrize("factor, verdict", [(1.06, "regression"), (1.04, "no change")])
def test_the_verdict_is_the_index_against_this_cpu_models_threshold(factor, verdict):
    gate = framework_gate.judge(synthetic_results(5), synthetic_results(5, kernel_factor=factor), CALIBRATED)
    assert gate.verdict == verdict and gate.threshold == 0.05
    assert f"×{factor:.3f}" in gate.describe() and f"×1.050: {verdict}" in gate.describe()


def test_a_cpu_model_without_a_calibration_is_reported_not_gated():
    slower = synthetic_results(5, kernel_factor=1.5)
    slower["machine_info"]["suite"]["cpu_model"] = "Some Other CPU"
    gate = framework_gate.judge(synthetic_results(5), slower, CALIBRATED)
    assert gate.verdict == framework_gate.NOT_GATED
    assert (
        "×1.500" in gate.describe() and "no A/A calibration for CPU model 'Some Other CPU'" in gate.describe()
    )


def test_the_committed_calibration_is_what_the_stored_a_a_campaigns_give():
    """reports/baselines/framework-gate.json is data made by code, not figures typed in."""
    campaigns = [ROOT / name for name in framework_gate.A_A_CAMPAIGNS]
    assert framework_gate.calibrate(campaigns) == framework_gate.load_calibration()
    models = framework_gate.load_calibration()["cpu_models"]
    assert models["AMD EPYC"]["threshold"] < 0.06  # ~1% per pair side by side
    assert models["Intel(R) Xeon(R) Processor @ 2.50GHz"]["threshold"] > 0.15  # ~4% per pair


def _first_pairs(campaign: Path, variant: str) -> list[tuple[dict, dict]]:
    trials = (evidence._trial(campaign / "runs", variant, r) for r in range(evidence.REPETITIONS))
    return [pairs[0] for pairs in trials if pairs]


def test_on_amd_a_slower_tensorflow_is_caught_in_every_trial_and_no_a_a_pair_out_of_sample():
    """Calibrated on one A/A campaign, the gate flags no pair of the other; at the committed calibration it
    flags all 10 trials of TensorFlow's convolutions doing 10% more work, where the normalized check
    flags the train step in none."""
    first, second = AMD / "a-a", AMD / "a-a-2"
    for calibrated_on, judged in ((first, second), (second, first)):
        calibration = framework_gate.calibrate([calibrated_on])
        pairs = a_a_pairs(judged)
        assert len(pairs) == 30
        assert [framework_gate.judge(*pair, calibration).verdict for pair in pairs] == ["no change"] * 30
    slower_tf = _first_pairs(AMD / "tf-conv-10pct", "tf-conv-10pct")
    assert len(slower_tf) == 10
    assert [framework_gate.judge(*pair).verdict for pair in slower_tf] == ["regression"] * 10
    train = f"test_train_throughput[{evidence.TARGET}]"
    assert all(evidence.observed_ratio(pair, train) < 1.03 for pair in slower_tf)  # normalized: cancels


def test_a_calibration_needs_enough_pairs_of_one_cpu_model(monkeypatch):
    pairs = [(synthetic_results(seed), synthetic_results(seed, kernel_factor=1.01)) for seed in range(25)]
    monkeypatch.setattr("bench.rule_simulation.a_a_pairs", lambda campaign: pairs[: int(campaign.name)])
    calibrated = framework_gate.calibrate([Path("25")])["cpu_models"]["AMD EPYC"]
    assert calibrated["a_a_pairs"] == 25 and calibrated["rms_log_index"] == pytest.approx(
        np.log(1.01), abs=1e-5
    )
    assert calibrated["threshold"] == pytest.approx(1.01**framework_gate.Z - 1, abs=1e-4)
    assert framework_gate.calibrate([Path("19")])["cpu_models"] == {}


def test_bad_input_gets_one_message_and_exit_2(tmp_path, capsys):
    corrupt = tmp_path / "framework-gate.json"
    corrupt.write_text("{not json")
    with pytest.raises(ResultsError, match="not a framework-gate calibration"):
        framework_gate.load_calibration(corrupt)
    base = write(tmp_path, "base.json", synthetic_results(1))
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"benchmarks": "no"}))
    assert framework_gate.main(["check", str(base), str(foreign)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench.framework_gate: ") and len(err.strip().splitlines()) == 1
