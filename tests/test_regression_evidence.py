"""End-to-end evidence for the regression check on real benchmark runs (slow: tox -e evidence).

Runs the ci profile's cnn training-throughput benchmarks repeatedly on this machine:
A/A runs of the same code must never be called a regression; a planted ~25% slowdown
in one implementation (injected by tests/plugins/planted.py, never by the product) must
be caught in at least 9 of 10 runs; a planted accuracy drop must be caught.  The
detection rates are written to reports/latest-evidence/EVIDENCE.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bench.compare import REGRESSION, compare
from bench.results import load

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
TIMING = "train_throughput and cnn"
TARGET = "cnn-functional"
REPETITIONS = 10
EVIDENCE_DIR = ROOT / "reports" / "latest-evidence"
_FIGURES: dict = {}


def bench_run(out: Path, selection: str, **planted: str) -> Path:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **planted}
    env.pop("BENCH_PROFILE", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "run",
            "--profile",
            "ci",
            "--out",
            str(out),
            "-k",
            selection,
            "--",
            "-p",
            "tests.plugins.planted",
            "-q",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return out


def verdicts(baseline: Path, current: Path) -> dict[str, str]:
    return {v.benchmark: v.verdict for v in compare(load(baseline), load(current))}


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    return bench_run(tmp_path_factory.mktemp("evidence") / "baseline.json", TIMING)


def _record(name: str, flagged: int, runs: int, seconds: float) -> None:
    _FIGURES[name] = {"flagged": flagged, "runs": runs, "seconds_per_run": round(seconds / runs, 1)}
    EVIDENCE_DIR.mkdir(parents=True, exist_ok=True)
    (EVIDENCE_DIR / "evidence.json").write_text(json.dumps(_FIGURES, indent=2))
    lines = ["| comparison | flagged as regression | runs | seconds per run |", "|---|---|---|---|"]
    lines += [f"| {k} | {v['flagged']} | {v['runs']} | {v['seconds_per_run']} |" for k, v in _FIGURES.items()]
    (EVIDENCE_DIR / "EVIDENCE.md").write_text("\n".join(lines) + "\n")


def test_a_a_is_never_a_regression(baseline, tmp_path):
    start, flagged = time.perf_counter(), 0
    for repetition in range(REPETITIONS):
        current = bench_run(tmp_path / f"aa-{repetition}.json", TIMING)
        found = [name for name, verdict in verdicts(baseline, current).items() if verdict == REGRESSION]
        flagged += bool(found)
    _record("A/A (same code)", flagged, REPETITIONS, time.perf_counter() - start)
    assert flagged == 0


@pytest.mark.parametrize(("fraction", "required"), [(0.25, 9), (0.15, None)])
def test_planted_slowdown_is_caught(baseline, tmp_path, fraction, required):
    start, flagged = time.perf_counter(), 0
    repetitions = REPETITIONS if required else 5
    for repetition in range(repetitions):
        current = bench_run(
            tmp_path / f"slow-{repetition}.json", TIMING, PLANTED_SLOWDOWN=f"{TARGET}:{fraction}"
        )
        found = [name for name, verdict in verdicts(baseline, current).items() if verdict == REGRESSION]
        assert set(found) <= {f"test_train_throughput[{TARGET}]"}, found
        flagged += bool(found)
    _record(f"planted {fraction:.0%} slowdown in {TARGET}", flagged, repetitions, time.perf_counter() - start)
    if required:
        assert flagged >= required


def test_planted_accuracy_drop_is_caught(tmp_path):
    selection = f"accuracy and {TARGET}"
    base = bench_run(tmp_path / "accuracy-base.json", selection)
    same = bench_run(tmp_path / "accuracy-same.json", selection)
    worse = bench_run(tmp_path / "accuracy-worse.json", selection, PLANTED_ACCURACY_DROP=TARGET)
    name = f"test_accuracy[{TARGET}]"
    assert (
        load(base)["benchmarks"][0]["extra_info"]["test_accuracy"]
        == load(same)["benchmarks"][0]["extra_info"]["test_accuracy"]
    ), "fixed seeds and deterministic ops must repeat the accuracy exactly"
    assert verdicts(base, same)[name] != REGRESSION
    assert verdicts(base, worse)[name] == REGRESSION
    _record("planted accuracy drop (learning rate / 100)", 1, 1, 0.0)
