"""The absolute-CPU-time gate sees slower framework kernels, which the normalized check cancels, at a
threshold calibrated per CPU model from the stored side-by-side evidence campaigns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bench.check import framework_gate
from bench.core.kinds import GATE_TARGET
from bench.core.pairs import observed_ratio
from bench.core.results import ResultsError
from bench.evidence import calibration
from bench.evidence import campaigns as evidence
from tests.support.results import CALIBRATED, synthetic_results, write

ROOT = Path(__file__).resolve().parent.parent
AMD = ROOT / "reports" / "evidence" / "amd"



def test_the_index_is_the_geometric_mean_of_the_calibrated_benchmarks_absolute_times():
    """The train step and batched predict of the cell the A/A campaigns measure; batch 1 is left out: its
    absolute time spreads 9-10% between two processes side by side."""
    base = synthetic_results(3)
    train, predict = framework_gate.INDEX_BENCHMARKS
    assert (train, predict) == (
        f"test_train_throughput[{GATE_TARGET}]",
        f"test_inference_throughput[{GATE_TARGET}]",
    )
    same_host_slower_kernels = synthetic_results(3, kernel_factor=1.1)
    assert framework_gate.absolute_index(base, same_host_slower_kernels) == pytest.approx(1.1)
    train_slower = synthetic_results(3, slowdown={train: 1.21})
    assert framework_gate.absolute_ratios(base, train_slower) == pytest.approx({train: 1.21, predict: 1.0})
    assert framework_gate.absolute_index(base, train_slower) == pytest.approx(1.1)
    others = [b["name"] for b in base["benchmarks"] if b["name"] not in (train, predict)]
    others_slower = synthetic_results(3, slowdown=dict.fromkeys(others, 1.6))
    assert framework_gate.absolute_index(base, others_slower) == pytest.approx(1.0)
    assert f"test_latency_batch1[{GATE_TARGET}]" in others


def _pair(seed: int, kernel_factor: float, cpu_model: str = "AMD EPYC") -> tuple[dict, dict]:
    """A side-by-side pair: both runs share the host's speed; the current one's kernels are slower."""
    current = synthetic_results(seed, kernel_factor=kernel_factor)
    current["machine_info"]["suite"]["cpu_model"] = cpu_model
    return synthetic_results(seed), current


@pytest.mark.parametrize(
    "factors, verdict",
    [
        ((1.06,), "suspect"),
        ((1.06, 1.055), "regression"),
        ((1.06, 1.04), "no change"),
        ((1.04, 1.2), "no change"),
    ],
)
def test_a_pair_past_the_threshold_is_a_suspect_and_two_in_a_row_a_regression(factors, verdict):
    gate = framework_gate.judge([_pair(5 + n, f) for n, f in enumerate(factors)], CALIBRATED)
    assert gate.verdict == verdict and gate.threshold == 0.05
    assert gate.indices == pytest.approx(list(factors))
    text = gate.describe()
    assert f"×{factors[0]:.3f}" in text and "×1.050" in text
    assert ("a suspect" if verdict == "suspect" else f": {verdict}") in text


def test_a_cpu_model_without_a_calibration_is_reported_not_gated():
    gate = framework_gate.judge([_pair(5, 1.5, cpu_model="Some Other CPU")], CALIBRATED)
    assert gate.verdict == framework_gate.NOT_GATED
    assert "×1.500" in gate.describe() and "no calibration for CPU model 'Some Other CPU'" in gate.describe()
    base, current = _pair(5, 1.5)
    current["benchmarks"] = [
        b for b in current["benchmarks"] if b["name"] not in framework_gate.INDEX_BENCHMARKS
    ]
    assert framework_gate.judge([(base, current)], CALIBRATED).verdict == framework_gate.NOT_GATED


def test_the_committed_calibration_is_what_the_stored_campaigns_give():
    """reports/baselines/framework-gate.json is data made by code, not figures typed in."""
    folders = [ROOT / name for name in calibration.CAMPAIGN_FOLDERS]
    calibrated = calibration.calibrate(folders)
    assert calibrated == framework_gate.load_calibration()
    amd, intel = (calibrated["cpu_models"][m] for m in ("AMD EPYC", "Intel(R) Xeon(R) Processor @ 2.50GHz"))
    assert amd["threshold"] < 0.06 < 0.15 < intel["threshold"]  # ~2% rms on AMD EPYC, ~7% on the Intel host
    assert amd["trials_whose_first_two_pairs_both_are"] == 0 == intel["trials_whose_first_two_pairs_both_are"]
    assert not any("project-" in campaign for campaign in amd["campaigns"])  # plants sized per process


def _trials(campaign: Path, variant: str) -> list[list[tuple[dict, dict]]]:
    return evidence.stored_trials(campaign / "runs", variant)


A_A_CAMPAIGNS = sorted(campaign.name for campaign in AMD.iterdir() if campaign.name.startswith("a-a"))


@pytest.mark.parametrize("held_out", A_A_CAMPAIGNS)
def test_on_amd_calibrated_without_an_a_a_campaign_the_gate_flags_none_of_its_trials(tmp_path, held_out):
    for campaign in AMD.iterdir():
        if campaign.name != held_out:
            (tmp_path / campaign.name).symlink_to(campaign)
    calibrated = calibration.calibrate([tmp_path])
    trials = _trials(AMD / held_out, "a-a")
    assert len(trials) == 10
    assert [framework_gate.judge(pairs, calibrated).verdict for pairs in trials] == ["no change"] * 10


def test_on_amd_a_slower_tensorflow_is_caught_by_the_gate_in_every_trial_and_not_by_the_train_step():
    """10% more convolution work in TensorFlow, under the models and the native reference alike."""
    slower_tf = _trials(AMD / "tf-conv-10pct", "tf-conv-10pct")
    assert len(slower_tf) == 10
    assert [framework_gate.judge(pairs).verdict for pairs in slower_tf] == ["regression"] * 10
    train = f"test_train_throughput[{GATE_TARGET}]"
    assert all(observed_ratio(pairs[0], train) < 1.03 for pairs in slower_tf)  # normalized: cancels


def test_a_calibration_takes_the_spread_around_each_campaigns_median_from_enough_pairs(monkeypatch, tmp_path):
    """A planted change is the same in every pair of its campaign: only the spread around it is the host's."""
    for name in ("plain", "planted"):
        (tmp_path / name / "runs").mkdir(parents=True)
    spread = [1.01, 1 / 1.01]  # ±1% around each campaign's median
    trials = {
        "plain": [[_pair(n, spread[n % 2])] for n in range(16)],
        "planted": [[_pair(n, 1.3 * spread[n % 2])] for n in range(16)],
    }
    monkeypatch.setattr(calibration, "campaign_pairs", lambda campaign: {"v": trials[campaign.name]})
    calibrated = calibration.calibrate([tmp_path])["cpu_models"]["AMD EPYC"]
    assert calibrated["pairs"] == 32 and calibrated["rms_log_deviation"] == pytest.approx(
        np.log(1.01), abs=1e-4
    )
    assert calibrated["threshold"] == pytest.approx(1.01**calibration.Z - 1, abs=2e-4)
    trials["planted"] = trials["planted"][:13]
    assert calibration.calibrate([tmp_path])["cpu_models"] == {}  # 29 pairs: too few


def test_bad_input_gets_one_message_and_exit_2(tmp_path, capsys):
    corrupt = tmp_path / "framework-gate.json"
    corrupt.write_text("{not json")
    with pytest.raises(ResultsError, match="not a framework-gate calibration"):
        framework_gate.load_calibration(corrupt)
    base = write(tmp_path, "base.json", synthetic_results(1))
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"benchmarks": "no"}))
    assert framework_gate.main([str(base), str(foreign)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench.check.framework_gate: ") and len(err.strip().splitlines()) == 1
    with pytest.raises(SystemExit) as usage:
        framework_gate.main([str(base), str(base), str(base)])
    assert usage.value.code == 2 and "one or two pairs" in capsys.readouterr().err
