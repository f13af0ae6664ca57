"""The simulation the regression rule's steps were chosen with follows the rule and reads the A/A spread."""

from __future__ import annotations

import json

from bench.core.kinds import pair_suffix
from bench.evidence import campaigns as evidence
from bench.evidence import rule_simulation
from tests.support.results import synthetic_results


def test_the_simulated_check_catches_steady_slowdowns_and_clears_a_a_at_a_small_spread():
    figures = rule_simulation.simulate(spread=0.005, benchmarks=18, trials=2000)
    assert figures["false_alarm_per_ci_run"] == 0.0
    assert figures["caught"][1.05] == 1.0 and figures["caught"][1.04] > 0.95


def test_a_wider_spread_costs_both_false_alarms_and_misses():
    narrow = rule_simulation.simulate(spread=0.008, benchmarks=18, trials=4000)
    wide = rule_simulation.simulate(spread=0.03, benchmarks=18, trials=4000)
    assert wide["false_alarm_per_ci_run"] > narrow["false_alarm_per_ci_run"]
    assert wide["caught"][1.05] < narrow["caught"][1.05]


def test_the_spread_comes_from_the_stored_a_a_pairs(tmp_path, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    for repetition in range(4):
        for number in (1, 2):
            for offset, name in enumerate((evidence.BASELINE, "a-a")):
                seed = 100 + 4 * repetition + 2 * number + offset
                path = runs / f"{name}{pair_suffix(number)}-{repetition}.json"
                path.write_text(json.dumps(synthetic_results(seed)))
    pairs = rule_simulation.a_a_pairs(tmp_path)
    spread, count = rule_simulation.pair_spread(pairs, "train_throughput"), len(pairs)
    assert count == 8 and 0.001 < spread < 0.05
    # the synthetic runs differ in process speed by ~12%: the normalized ratio cancels it, raw time keeps it
    raw_spread = rule_simulation.pair_spread(pairs, "train_throughput", evidence.raw_ratio)
    assert raw_spread > 3 * spread
    assert rule_simulation.main([str(tmp_path / "nowhere")]) == 2
    assert "fewer than 3 stored A/A pairs" in capsys.readouterr().err
