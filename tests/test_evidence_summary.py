"""The evidence summary judges each trial as bench regress does: first pair, then both pairs pooled."""

from __future__ import annotations

import json

from bench import evidence
from tests.test_compare import TRAIN, synthetic_results


def _write(runs, name: str, seed: int, slowdown: float | None = None) -> None:
    results = synthetic_results(seed, slowdown={TRAIN: slowdown} if slowdown else None)
    (runs / f"{name}.json").write_text(json.dumps(results))


def test_a_trial_counts_only_when_the_pooled_pairs_confirm_the_first(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    seed = 0
    for repetition in range(3):
        for name, first, again in (
            (evidence.BASELINE, None, None),
            ("a-a", None, None),
            ("keras-12-rows", 1.4, 1.4),  # a real slowdown: slow in both runs
            ("keras-2-rows", 1.08, None),  # one slow process: flagged by the first pair, not by the check
        ):
            _write(runs, f"{name}-{repetition}", seed := seed + 1, first)
            _write(runs, f"{name}{evidence.AGAIN}-{repetition}", seed := seed + 1, again)
    figures = evidence.summarize(tmp_path)["variants"]
    train = {name: figures[name]["kinds"]["train_throughput"] for name in figures}
    assert train["a-a"]["flagged"] == 0 and train["a-a"]["pairs"] == 3
    assert train["keras-12-rows"]["flagged"] == 3
    assert train["keras-2-rows"]["flagged_first_pair"] == 3 and train["keras-2-rows"]["flagged"] == 0
    assert "| keras-2-rows |" in (tmp_path / "EVIDENCE.md").read_text()


def test_the_summary_says_how_the_runs_of_a_pair_met(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    for name in (evidence.BASELINE, "a-a", f"{evidence.BASELINE}{evidence.AGAIN}", f"a-a{evidence.AGAIN}"):
        _write(runs, f"{name}-0", len(name))
    evidence.summarize(tmp_path)
    assert "ran side by side" in (tmp_path / "EVIDENCE.md").read_text()  # one variant: pairs start together
    _write(runs, "keras-2-rows-0", 7)
    _write(runs, f"keras-2-rows{evidence.AGAIN}-0", 8)
    evidence.summarize(tmp_path)
    assert "two at a time" in (tmp_path / "EVIDENCE.md").read_text()


def test_a_trial_left_undecided_by_two_pairs_is_judged_on_its_third(tmp_path):
    """As bench regress does: a suspect 2% or more slower over two pairs and not a regression gets a third."""
    runs = tmp_path / "runs"
    runs.mkdir()
    # the variant's second run reads low: over two pairs it is undecided, the third decides
    for number, (seed, slowdown) in enumerate(((24, 1.04), (26, 1.02), (28, 1.08)), start=1):
        _write(runs, f"{evidence.BASELINE}{evidence._again(number)}-0", seed + 1)
        _write(runs, f"keras-2-rows{evidence._again(number)}-0", seed, slowdown)
        if number == 2:
            two_pairs = evidence.summarize(tmp_path)["variants"]["keras-2-rows"]["kinds"]["train_throughput"]
    three_pairs = evidence.summarize(tmp_path)["variants"]["keras-2-rows"]["kinds"]["train_throughput"]
    assert two_pairs["flagged"] == 0 and two_pairs["pairs_measured"] == [2]
    assert three_pairs["flagged"] == 1 and three_pairs["pairs_measured"] == [3]
    assert "| 1/1 |" in (tmp_path / "EVIDENCE.md").read_text()
