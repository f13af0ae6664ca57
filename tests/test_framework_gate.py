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


def test_the_index_is_the_geometric_mean_of_the_calibrated_benchmarks_absolute_times():
    """The train step and batched predict of the cell the A/A campaigns measure; batch 1 is left out: its
    absolute time spreads 9-10% between two processes side by side."""
    base = synthetic_results(3)
    train, predict = framework_gate.INDEX_BENCHMARKS
    assert (train, predict) == (
        f"test_train_throughput[{evidence.TARGET}]",
        f"test_inference_throughput[{evidence.TARGET}]",
    )
    same_host_slower_kernels = synthetic_results(3, kernel_factor=1.1)
    assert framework_gate.absolute_index(base, same_host_slower_kernels) == pytest.approx(1.1)
    train_slower = synthetic_results(3, slowdown={train: 1.21})
    assert framework_gate.absolute_ratios(base, train_slower) == pytest.approx({train: 1.21, predict: 1.0})
    assert framework_gate.absolute_index(base, train_slower) == pytest.approx(1.1)
    others = [b["name"] for b in base["benchmarks"] if b["name"] not in (train, predict)]
    others_slower = synthetic_results(3, slowdown=dict.fromkeys(others, 1.6))
    assert framework_gate.absolute_index(base, others_slower) == pytest.approx(1.0)
    assert f"test_latency_batch1[{evidence.TARGET}]" in others


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
    monkeypatch.setattr(framework_gate, "a_a_pairs", lambda campaign: pairs[: int(campaign.name)])
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
