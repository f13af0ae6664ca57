"""The evidence summary judges each trial as bench regress does: first pair, then both pairs pooled."""

from __future__ import annotations

import json

from bench.check import framework_gate
from bench.core.kinds import pair_suffix
from bench.evidence import campaigns as evidence
from tests.support.results import TRAIN, synthetic_results


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


def test_a_trial_left_undecided_is_judged_on_further_pairs(tmp_path):
    """As bench regress does: a suspect 2% or more slower, not a regression, gets a further pair, up to 4."""
    runs = tmp_path / "runs"
    runs.mkdir()
    seen = {}
    # a steady 5% slowdown: each further pair tightens the rule until it is caught
    for number, seed in enumerate((24, 26, 28, 30), start=1):
        _write(runs, f"{evidence.BASELINE}{pair_suffix(number)}-0", seed + 1)
        _write(runs, f"keras-2-rows{pair_suffix(number)}-0", seed, 1.05)
        if number >= 2:
            variants = evidence.summarize(tmp_path)["variants"]
            seen[number] = variants["keras-2-rows"]["kinds"]["train_throughput"]
        assert evidence.asks_for_more(evidence.trial(runs, "keras-2-rows", 0) or []) == (number in (2, 3))
    assert [seen[n]["flagged"] for n in (2, 3, 4)] == [0, 0, 1]
    assert [seen[n]["pairs_measured"] for n in (2, 3, 4)] == [[2], [3], [4]]
    assert "| 1/1 | 1/1 | 1/1 (1) |" in (tmp_path / "EVIDENCE.md").read_text()


def test_a_campaign_measures_a_fourth_pair_only_where_the_check_asks(tmp_path, monkeypatch):
    slow = {"keras-2-rows": 1.05, "a-a": None}  # undecided after three pairs; never a suspect
    measured = []

    def fake_run(out, planted, selection=evidence.SELECTION):
        name = out.stem.rsplit("-", 1)[0]  # without the repetition
        variant = evidence.variant_of(name)
        (number,) = [n for n in range(1, 5) if name == variant + pair_suffix(n)]
        measured.append(out.name)
        # the seeds of the test above: the same 5% slowdown, undecided until its fourth pair
        _write(out.parent, out.stem, 22 + 2 * number + (variant == evidence.BASELINE), slow.get(variant))
        return out, 0

    monkeypatch.setattr(evidence, "_run_one", fake_run)
    evidence.run_campaign(tmp_path, 1, ["keras-2-rows"], workers=1)
    evidence.run_campaign(tmp_path / "aa", 1, ["a-a"], workers=1)
    assert f"keras-2-rows{pair_suffix(4)}-0.json" in measured
    assert f"a-a{pair_suffix(3)}-0.json" in measured and f"a-a{pair_suffix(4)}-0.json" not in measured


def test_a_slower_framework_kernel_shows_in_the_raw_ratio_not_the_normalized_one(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    seed = 100
    for repetition in range(5):
        for name, kernel_factor in ((evidence.BASELINE, 1.0), ("tf-conv-10pct", 1.5)):
            for again in ("", evidence.AGAIN):
                results = synthetic_results(seed := seed + 1, kernel_factor=kernel_factor)
                (runs / f"{name}{again}-{repetition}.json").write_text(json.dumps(results))
    train = evidence.summarize(tmp_path)["variants"]["tf-conv-10pct"]["kinds"]["train_throughput"]
    assert train["flagged"] == 0
    assert 0.97 < train["observed_ratio_median"] < 1.03
    assert train["raw_ratio_median"] > 1.25
    assert "| raw (median, range) |" in (tmp_path / "EVIDENCE.md").read_text()


def test_the_absolute_time_gate_is_judged_on_each_trials_first_pair(tmp_path, monkeypatch):
    """Each pair shares its host's speed (side by side): 10% slower kernels under model and reference alike
    are flagged in every trial by the gate at the campaign CPU model's threshold, not by the check."""
    calibration = tmp_path / "framework-gate.json"
    calibration.write_text(json.dumps({"cpu_models": {"AMD EPYC": {"threshold": 0.05}}}))
    monkeypatch.setattr(framework_gate, "CALIBRATION", calibration)
    runs = tmp_path / "runs"
    runs.mkdir()
    for repetition in range(5):
        for number, again in ((1, ""), (2, evidence.AGAIN)):
            seed = 10 * repetition + number  # the same host speed for both runs of a pair
            for name, kernel_factor in ((evidence.BASELINE, 1.0), ("tf-conv-10pct", 1.1)):
                results = synthetic_results(seed, kernel_factor=kernel_factor)
                (runs / f"{name}{again}-{repetition}.json").write_text(json.dumps(results))
    figures = evidence.summarize(tmp_path)["variants"]["tf-conv-10pct"]
    assert figures["kinds"]["train_throughput"]["flagged"] == 0
    gate = figures["absolute_time_gate"]
    assert (gate["flagged"], gate["trials"], gate["threshold"]) == (5, 5, 0.05)
    assert gate["index_range"] == [1.1, 1.1]
    assert "| tf-conv-10pct | ×1.100 (1.100–1.100) | ×1.050 | 5/5 |" in (tmp_path / "EVIDENCE.md").read_text()


def test_summarizing_a_folder_without_a_campaign_or_with_a_corrupt_run_says_so_once(tmp_path, capsys):
    assert evidence.main(["summarize", "--out", str(tmp_path / "nowhere")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"bench.evidence: {tmp_path / 'nowhere'} holds no campaign (no runs/ folder)"
    )
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / f"{evidence.BASELINE}-0.json").write_text('{"benchmarks": [')
    (tmp_path / "runs" / "a-a-0.json").write_text(json.dumps(synthetic_results(1)))
    (tmp_path / "runs" / f"{evidence.BASELINE}{evidence.AGAIN}-0.json").write_text(
        json.dumps(synthetic_results(2))
    )
    (tmp_path / "runs" / f"a-a{evidence.AGAIN}-0.json").write_text(json.dumps(synthetic_results(3)))
    assert evidence.main(["summarize", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("bench.evidence: ") and len(err.strip().splitlines()) == 1
