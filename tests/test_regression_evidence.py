"""End-to-end evidence for the regression check on real benchmark runs (slow: tox -e evidence).

Runs the campaign of :mod:`bench.evidence` (10 repetitions of three baseline runs, three A/A
runs and three runs of each slowdown planted inside Keras and in the project's train step, plus
a planted accuracy drop per architecture) into reports/latest-evidence and holds the check to
what it must show: no A/A trial flagged, the ~40%, ~7% and ~5% Keras slowdowns and the project's
slowdown flagged in at least 9 of 10 trials.  About three hours on a 2-core machine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import evidence

pytestmark = pytest.mark.slow
OUT = Path(__file__).resolve().parent.parent / "reports" / "latest-evidence"


@pytest.fixture(scope="module")
def figures():
    evidence.run_campaign(OUT, evidence.REPETITIONS, list(evidence.VARIANTS), workers=1)
    evidence.run_accuracy_campaign(OUT)
    return evidence.summarize(OUT)


def test_a_a_trials_are_never_flagged(figures):
    kinds = figures["variants"]["a-a"]["kinds"].values()
    assert all(k["pairs"] == evidence.REPETITIONS and k["flagged"] == 0 for k in kinds)


@pytest.mark.parametrize("variant", ["keras-12-rows", "keras-2-rows", "keras-5pct"])
def test_slowdowns_inside_keras_are_caught(figures, variant):
    kinds = figures["variants"][variant]["kinds"]
    assert all(kinds[kind]["flagged"] >= 9 for kind in evidence.KINDS)


def test_slowdown_in_the_project_is_caught(figures):
    assert figures["variants"]["project-8pct"]["kinds"]["train_throughput"]["flagged"] >= 9


@pytest.mark.parametrize("arch", ["cnn", "resnet"])
def test_accuracy_drops_are_caught(figures, arch):
    drop = figures["accuracy"][arch]
    assert drop["same_code_repeats_exactly"] and drop["planted_drop_flagged"]
