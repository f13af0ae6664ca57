"""The regression check on results files derived from a saved smoke run.

Per-round samples are drawn here with known properties (same distribution,
a planted slowdown, a machine-wide slowdown), so each verdict is checked
against a known truth; the end-to-end runs on real benchmarks are in
test_regression_evidence.py.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.check.compare import IMPROVEMENT, NO_CHANGE, REGRESSION, compare, compare_files
from bench.core.results import load
from tests.support.results import ACCURACY, TRAIN, synthetic_results, write


def verdicts_by_name(capsys) -> dict[str, str]:
    out = capsys.readouterr().out
    rows = [line.split("|") for line in out.splitlines() if line.startswith("| test_")]
    return {row[1].strip(): row[7].strip() for row in rows}


def test_a_a_comparisons_never_regress(tmp_path, capsys):
    for repetition in range(10):
        base = write(tmp_path, "base.json", synthetic_results(2 * repetition))
        current = write(tmp_path, "current.json", synthetic_results(2 * repetition + 1))
        assert compare_files(base, current) == 0
        assert set(verdicts_by_name(capsys).values()) <= {NO_CHANGE, "warning"}


def test_planted_slowdown_is_a_regression(tmp_path, capsys):
    assert _train_regressions_flagged(tmp_path, capsys, slowdown={TRAIN: 1.25}) >= 9


def _train_regressions_flagged(tmp_path, capsys, **current) -> int:
    """In how many of 10 pairs the train benchmark alone is flagged, the current run made with ``current``."""
    flagged = 0
    for repetition in range(10):
        base = write(tmp_path, "base.json", synthetic_results(2 * repetition))
        status = compare_files(
            base, write(tmp_path, "current.json", synthetic_results(2 * repetition + 1, **current))
        )
        verdicts = verdicts_by_name(capsys)
        flagged += status == 1 and verdicts[TRAIN] == REGRESSION
        assert [name for name, v in verdicts.items() if v == REGRESSION] in ([], [TRAIN])
    return flagged


def test_machine_wide_slowdown_only_warns(tmp_path, capsys):
    base = write(tmp_path, "base.json", synthetic_results(0))
    current = write(tmp_path, "current.json", synthetic_results(1, machine_factor=1.8))
    assert compare_files(base, current) == 0
    assert "moved together" in capsys.readouterr().out


def test_small_slowdown_inside_keras_is_caught_even_on_a_faster_host(tmp_path, capsys):
    # 8% more work in the model only, while the host runs the current process 20% faster:
    # the absolute time falls, the time per native-reference round rises.
    assert _train_regressions_flagged(tmp_path, capsys, slowdown={TRAIN: 1.08}, machine_factor=0.8) >= 9


def test_a_framework_change_that_falls_on_the_reference_more_than_on_the_model_warns(tmp_path):
    # oneDNN switched off slowed the native cnn ×1.30 and the resnet predicts ×1.16: normalized, an
    # "improvement" of ×0.90 (reports/evidence/releases/tensorflow-onednn-off); the note says whose it is
    base = load(write(tmp_path, "base.json", synthetic_results(0)))
    current = synthetic_results(0, kernel_factor=1.3, slowdown={TRAIN: 1 / 1.3})
    verdicts = {v.benchmark: v for v in compare(base, load(write(tmp_path, "current.json", current)))}
    assert verdicts[TRAIN].verdict == IMPROVEMENT
    assert "native-cnn moved and the model not as much" in verdicts[TRAIN].note
    others = [v for name, v in verdicts.items() if name != TRAIN and "native-cnn ×" in v.note]
    assert others and all("moved together" in v.note for v in others)


def test_kernel_change_in_the_framework_cancels_and_warns(tmp_path, capsys):
    # A framework release whose own kernels are 40% slower moves the native reference too: the
    # normalized time cannot see it, the note says both moved (the README states this limit).
    base = write(tmp_path, "base.json", synthetic_results(0))
    current = write(tmp_path, "current.json", synthetic_results(1, kernel_factor=1.4))
    assert compare_files(base, current) == 0
    assert "moved together" in capsys.readouterr().out


def test_another_cpu_model_is_not_compared(tmp_path):
    good = write(tmp_path, "good.json", synthetic_results(0))
    other = synthetic_results(1)
    other["machine_info"]["suite"]["cpu_model"] = "AMD EPYC 9B14"
    result = run_cli(good, write(tmp_path, "amd.json", other))
    assert_one_line_error(result, "cpu_model")


def test_interrupted_run_is_compared_as_partial(tmp_path, capsys):
    current = synthetic_results(1)
    current["benchmarks"] = current["benchmarks"][:3]
    current["machine_info"]["suite"]["interrupted"] = "SIGTERM after 3 finished benchmark(s)"
    base = write(tmp_path, "base.json", synthetic_results(0))
    status = compare_files(base, write(tmp_path, "c.json", current))
    out = capsys.readouterr().out
    assert status == 0
    assert "partial results" in out and "SIGTERM after 3" in out
    assert out.count("not measured") == len(synthetic_results(0)["benchmarks"]) - 3


def test_speedup_is_an_improvement(tmp_path, capsys):
    base = write(tmp_path, "base.json", synthetic_results(0))
    current = write(tmp_path, "current.json", synthetic_results(1, slowdown={TRAIN: 0.7}))
    assert compare_files(base, current) == 0
    assert verdicts_by_name(capsys)[TRAIN] == IMPROVEMENT


def test_accuracy_drop_is_a_regression(tmp_path, capsys):
    base = synthetic_results(0)
    worse = copy.deepcopy(base)
    entry = next(b for b in worse["benchmarks"] if b["name"] == ACCURACY)
    entry["extra_info"]["test_accuracy"] -= 0.05
    status = compare_files(write(tmp_path, "b.json", base), write(tmp_path, "c.json", worse))
    assert status == 1
    assert verdicts_by_name(capsys)[ACCURACY] == REGRESSION


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bench", "compare", *map(str, args)], capture_output=True, text=True
    )


def assert_one_line_error(result, fragment: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and result.stderr.startswith("error:")
    assert fragment in result.stderr


def _missing(tmp_path, good):
    return tmp_path / "nowhere.json", "results file not found"


def _truncated(tmp_path, good):
    text = good.read_text()
    return write_text(tmp_path / "truncated.json", text[: len(text) // 2]), "not valid JSON"


def _foreign(tmp_path, good):
    return write_text(tmp_path / "foreign.json", json.dumps({"rows": [1, 2, 3]})), "not a pytest-benchmark"


def _plain_pytest_benchmark(tmp_path, good):
    results = json.loads(good.read_text())
    del results["machine_info"]["suite"]
    return write_text(tmp_path / "plain.json", json.dumps(results)), "without this suite's metadata"


def _binary(tmp_path, good):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe")
    return path, "not"


def _other_profile(tmp_path, good):
    results = json.loads(good.read_text())
    results["machine_info"]["suite"]["profile"] = "quick"
    return write_text(tmp_path / "quick.json", json.dumps(results)), "profile 'smoke' vs 'quick'"


def _other_batch(tmp_path, good):
    results = json.loads(good.read_text())
    results["machine_info"]["suite"]["settings"]["train_batch"] = 128
    return write_text(tmp_path / "batch.json", json.dumps(results)), "train_batch 16 vs 128"


def _other_backend(tmp_path, good):
    results = json.loads(good.read_text())
    results["machine_info"]["suite"]["backend"] = "jax"
    return write_text(tmp_path / "jax.json", json.dumps(results)), "backend 'tensorflow' vs 'jax'"


def _missing_benchmark(tmp_path, good):
    results = json.loads(good.read_text())
    results["benchmarks"] = results["benchmarks"][1:]
    return write_text(tmp_path / "partial.json", json.dumps(results)), "lacks 1 benchmark"


def _no_round_data(tmp_path, good):
    results = json.loads(good.read_text())
    for bench in results["benchmarks"]:
        bench["stats"].pop("data", None)
    return write_text(tmp_path / "nodata.json", json.dumps(results)), "no per-round data"


def write_text(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


BAD_CURRENT = [
    _missing,
    _truncated,
    _foreign,
    _plain_pytest_benchmark,
    _binary,
    _other_profile,
    _other_batch,
    _other_backend,
    _missing_benchmark,
    _no_round_data,
]


@pytest.mark.parametrize("make_bad", BAD_CURRENT, ids=lambda f: f.__name__.strip("_"))
def test_unusable_input_exits_2_with_one_line(tmp_path, make_bad):
    good = write(tmp_path, "good.json", synthetic_results(0))
    bad, fragment = make_bad(tmp_path, good)
    assert_one_line_error(run_cli(good, bad), fragment)


def test_unusable_baseline_exits_2(tmp_path):
    good = write(tmp_path, "good.json", synthetic_results(0))
    bad, fragment = _truncated(tmp_path, good)
    assert_one_line_error(run_cli(bad, good), fragment)


def test_markdown_table_is_written(tmp_path):
    base = write(tmp_path, "base.json", synthetic_results(0))
    current = write(tmp_path, "current.json", synthetic_results(1))
    out = tmp_path / "diff" / "COMPARE.md"
    assert compare_files(base, current, markdown_out=str(out)) == 0
    text = out.read_text()
    assert "| benchmark" in text and TRAIN in text and "no regression" in text


def test_memory_note_skips_a_baseline_from_the_inheriting_probe(tmp_path, capsys):
    first_step = "test_first_step_and_memory[cnn-functional]"
    old = synthetic_results(0)
    for bench in old["benchmarks"]:
        bench["extra_info"].pop("rss_probe_version", None)
    current = write(tmp_path, "current.json", synthetic_results(1))
    assert compare_files(write(tmp_path, "base.json", synthetic_results(0)), current) == 0
    assert "peak RSS growth" in _row(capsys.readouterr().out, first_step)
    assert compare_files(write(tmp_path, "old.json", old), current) == 0
    assert "peak RSS not compared" in _row(capsys.readouterr().out, first_step)


def _row(out: str, name: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(f"| {name}"))


def test_pairs_agree_only_when_every_pair_reads_alike():
    from bench.core.stats import replicates_agree

    assert replicates_agree([1.04, 1.05, 1.045], slower=True) < 0.05  # a steady slowdown
    assert replicates_agree([1.08, 1.0, 1.01], slower=True) > 0.05  # one process off
    assert replicates_agree([1.04, 1.05, 1.045], slower=False) > 0.5  # not faster
    assert replicates_agree([1.06], slower=True) == 1.0  # one pair: no replicates
    assert replicates_agree([1.03, 1.03], slower=True) == 0.0
    assert replicates_agree([1.0, 1.0], slower=True) == 1.0
