"""Change points on real stored measurements: the ~7% Keras slowdown found at its commit, A/A series quiet,
on both CPU models' campaigns; the committed CHANGES.md is what the stored runs give."""

from __future__ import annotations

import pytest

from bench.evidence import change_points as evidence


def test_the_store_finds_the_keras_slowdown_at_its_commit_and_no_change_in_a_a_series(tmp_path):
    db = str(tmp_path / "evidence.sqlite")
    outcomes = evidence.judge(db, evidence.build(db))
    assert {o.cpu for o in outcomes} == set(evidence.CAMPAIGNS)
    for outcome in outcomes:
        assert outcome.series == evidence.SERIES
        if outcome.kind == "step":
            assert outcome.at_the_commit >= 9, outcome
        else:
            assert outcome.false_changes <= 1, outcome
    assert sum(o.false_changes for o in outcomes if o.kind == "A/A") <= 1  # at most 1 in all


def test_the_committed_table_is_what_the_stored_runs_give(tmp_path):
    assert evidence.main(["--out", str(tmp_path)]) == 0
    assert (tmp_path / "CHANGES.md").read_text() == (evidence.OUT / "CHANGES.md").read_text()


def test_more_or_fewer_series_are_drawn_on_request(tmp_path, capsys):
    assert evidence.main(["--series", "2", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "CHANGES.md").read_text()
    assert table.count("| 2 × 40 runs (step)") == len(evidence.CAMPAIGNS), table
    with pytest.raises(SystemExit) as refused:
        evidence.main(["--series", "0", "--out", str(tmp_path)])
    assert refused.value.code == 2 and "--series must be at least 1" in capsys.readouterr().err
