"""Real framework changes through the regression check: the stored comparisons say what their runs say,
and a release that slows the models is read as a regression (kernels by the gate, Keras by the check)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.check import compare, framework_gate
from bench.evidence import releases
from tests.support.results import CALIBRATED, synthetic_results, write

TARGET_TRAIN, TARGET_PREDICT = framework_gate.INDEX_BENCHMARKS


def test_the_committed_release_table_is_what_the_stored_runs_say():
    folders = releases.stored_comparisons(releases.RELEASES)
    assert len(folders) >= 3
    judged = [releases.judge_comparison(folder) for folder in folders]
    assert releases.markdown(judged) == (releases.RELEASES / "RELEASES.md").read_text(encoding="utf-8")
    verdicts = {row["comparison"]: (row["gate"], bool(row["regressions"])) for row in judged}
    assert verdicts["tensorflow-onednn-off"] == (framework_gate.REGRESSION, True)
    assert verdicts["tensorflow-2.20.0-to-2.21.0"] == (framework_gate.NO_CHANGE, False)
    for folder, row in zip(folders, judged, strict=True):
        # what bench regress concluded when it ran is what its stored runs give under today's rules
        gate_line = (folder / "COMPARE.md").read_text(encoding="utf-8").strip().splitlines()[-1]
        assert all(f"×{index:.3f}" in gate_line for index in row["gate_index"])
        assert gate_line.endswith("no change") == (row["gate"] == framework_gate.NO_CHANGE)
        if row["suspects"]:
            concluded = (folder / "COMPARE-pooled.md").read_text(encoding="utf-8").strip().splitlines()[-1]
            standing = concluded.split(": ", 1)[1].split(", ") if "regression(s)" in concluded else []
            assert standing == row["regressions"]


@pytest.mark.parametrize("folder", releases.stored_comparisons(releases.RELEASES), ids=lambda f: f.name)
def test_a_stored_comparison_changes_the_framework_and_nothing_else_it_measures(folder):
    base, current = (json.loads((folder / name).read_text()) for name in releases.FIRST_PAIR)
    changed = releases.framework_changes(base, current)
    assert changed and all(old != new for old, new in changed.values())
    suites = [run["machine_info"]["suite"] for run in (base, current)]
    for key in ("profile", "backend", "cpu_model", "reference_version", "dataset", "seed"):
        assert suites[0][key] == suites[1][key], key
    compare.check_comparable(base, current)


def _release_folder(tmp_path: Path, *, kernel_factor=1.0, slowdown=None, gate_pair=False) -> Path:
    """A bench regress output whose checkout runs a newer keras: its first pair, a confirming pair of
    everything, and where asked the gate's pair; the newer release slows kernels or the model."""
    folder = tmp_path / "keras-old-to-new"
    folder.mkdir()
    pairs = [releases.pair_files(folder, 1), releases.pair_files(folder, 2)]
    pairs += [tuple(folder / name for name in releases.GATE_PAIR)] if gate_pair else []
    for seed, (base_path, current_path) in enumerate(pairs, start=11):
        base = synthetic_results(seed)
        current = synthetic_results(seed, kernel_factor=kernel_factor, slowdown=slowdown)
        for run, version in ((base, "3.12.0"), (current, "3.15.1")):
            run["machine_info"]["suite"].update(cpu_model="AMD EPYC")
            run["machine_info"]["suite"]["versions"]["keras"] = version
        write(folder, base_path.name, base)
        write(folder, current_path.name, current)
    return folder


@pytest.fixture
def calibrated(tmp_path, monkeypatch):
    path = tmp_path / "framework-gate.json"
    path.write_text(json.dumps(CALIBRATED))
    monkeypatch.setattr(framework_gate, "CALIBRATION", path)


def test_a_release_with_slower_kernels_is_a_regression_of_the_gate_not_of_the_normalized_check(
    tmp_path, calibrated
):
    row = releases.judge_comparison(_release_folder(tmp_path, kernel_factor=1.1, gate_pair=True))
    assert row["changed"] == {"keras": ["3.12.0", "3.15.1"]}
    assert row["gate_index"] == pytest.approx([1.1, 1.1]) and row["gate"] == framework_gate.REGRESSION
    assert row["regressions"] == [framework_gate.GATE_NAME]
    assert row["raw_ratio_range"]["train_throughput"][0] > 1.08
    assert row["normalized_ratio_range"]["train_throughput"][1] < 1.03


def test_a_release_with_a_slower_training_step_is_a_regression_of_that_benchmark(tmp_path, calibrated):
    row = releases.judge_comparison(_release_folder(tmp_path, slowdown={TARGET_TRAIN: 1.1}))
    assert row["regressions"] == [TARGET_TRAIN]
    assert row["suspects"][TARGET_TRAIN]["verdict"] == compare.REGRESSION and row["pairs"] == 2
    assert row["gate"] == framework_gate.NO_CHANGE  # ×1.049 (the geometric mean with the predict), under 5%
    assert "| none |" not in releases.markdown([row]).splitlines()[-1]


def test_a_suspect_whose_confirming_pair_is_not_stored_is_an_error(tmp_path, calibrated):
    folder = _release_folder(tmp_path, slowdown={TARGET_TRAIN: 1.1})
    for path in releases.pair_files(folder, 2):
        path.unlink()
    with pytest.raises(releases.ResultsError, match="asks for pair 2, which is not stored"):
        releases.judge_comparison(folder)


def _summarize(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench.evidence.releases", "summarize", "--root", str(root)],
                          capture_output=True, text=True)  # fmt: skip


def test_a_folder_without_a_release_comparison_is_one_line_and_exit_2(tmp_path):
    result = _summarize(tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "no stored bench regress" in result.stderr
    same = tmp_path / "same-versions"
    same.mkdir()
    for name in releases.FIRST_PAIR:
        write(same, name, synthetic_results(3))
    result = _summarize(tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "same versions and settings" in result.stderr
    (same / releases.FIRST_PAIR[1]).write_text("{not json")
    result = _summarize(tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
