"""How the regression check's sequential rule behaves at a given pair-to-pair spread, by simulation.

``python -m bench.evidence.rule_simulation reports/evidence/amd/a-a reports/evidence/side-by-side/a-a`` reads the
A/A runs of each evidence campaign, measures the spread of the per-pair ratio (current/baseline of the
median normalized round) per benchmark kind, and plays :func:`bench.check.compare.confirm_suspects`' sequence
at that spread: a suspect at SCREEN_THRESHOLD, one more pair while undecided, up to MAX_PAIRS, each step
judged by RULE_BY_PAIRS and the pairs' agreement (PAIR_SIGNIFICANCE).  It prints the share of A/A
benchmarks flagged, the chance that a CI run of ``--benchmarks`` of them raises a false alarm, the
share of steady slowdowns caught and, beside them, the pair-to-pair spread of the raw CPU time (not
divided by the reference), which the absolute-time gate (:mod:`bench.check.framework_gate`) lives with.

A model, not a measurement: each pair's ratio is the true slowdown times a log-normal offset with the
measured spread, and the pooled ratio is the mean of the pairs' (the check pools rounds and also asks a
bootstrap CI over them, which only makes it stricter).  It is what the thresholds were chosen with.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from bench.check.rule import MAX_PAIRS, PAIR_SIGNIFICANCE, RULE_BY_PAIRS, SCREEN_THRESHOLD
from bench.core.kinds import GATE_TARGET, TIMED_KINDS
from bench.core.pairs import observed_ratio, raw_ratio
from bench.core.results import ResultsError
from bench.core.stats import replicates_agree
from bench.evidence.campaigns import stored_trials

TRIALS = 20000
SLOWDOWNS = (1.03, 1.04, 1.05)


def a_a_pairs(evidence_dir: Path) -> list[tuple[dict, dict]]:
    """Every stored (baseline, A/A) pair of a campaign, each run loaded once; ResultsError under three."""
    pairs = [pair for pairs in stored_trials(evidence_dir / "runs", "a-a") for pair in pairs]
    if len(pairs) < 3:
        raise ResultsError(f"{evidence_dir}: fewer than 3 stored A/A pairs")
    return pairs


def pair_spread(pairs: list[tuple[dict, dict]], kind: str, ratio=observed_ratio) -> float:
    """The standard deviation of log(per-pair ratio) of ``kind`` over A/A ``pairs``; ``ratio`` is the
    normalized one the check judges, or :func:`bench.core.pairs.raw_ratio`."""
    bench = f"test_{kind}[{GATE_TARGET}]"
    return float(np.std([np.log(ratio(pair, bench)) for pair in pairs], ddof=1))


def caught(slowdown: float, spread: float, rng: np.random.Generator) -> bool:
    """One simulated check of one benchmark: is a steady ``slowdown`` flagged?"""
    ratios = [slowdown * np.exp(rng.normal(0, spread))]
    if ratios[0] < 1 + SCREEN_THRESHOLD:
        return False
    for pairs in range(2, MAX_PAIRS + 1):
        ratios.append(slowdown * np.exp(rng.normal(0, spread)))
        pooled = float(np.exp(np.mean(np.log(ratios))))
        threshold, _ = RULE_BY_PAIRS[pairs]
        if pooled >= 1 + threshold and replicates_agree(ratios, slower=True) < PAIR_SIGNIFICANCE:
            return True
        if pooled < 1 + SCREEN_THRESHOLD:
            return False
    return False


def simulate(spread: float, benchmarks: int, trials: int = TRIALS, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    false_alarm = float(np.mean([caught(1.0, spread, rng) for _ in range(trials)]))
    return {
        "false_alarm_per_benchmark": false_alarm,
        "false_alarm_per_ci_run": 1 - (1 - false_alarm) ** benchmarks,
        "caught": {
            s: float(np.mean([caught(s, spread, rng) for _ in range(trials // 4)])) for s in SLOWDOWNS
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evidence.rule_simulation", description=__doc__.splitlines()[0]
    )
    parser.add_argument("evidence_dirs", nargs="+", help="evidence campaigns with A/A runs")
    parser.add_argument("--benchmarks", type=int, default=18, help="timed benchmarks per CI run (ci profile)")
    args = parser.parse_args(argv)
    print("| A/A pairs of | kind | pair spread (sd) | flagged per A/A benchmark | false alarm per CI run | "
          + " | ".join(f"×{s:.2f} caught" for s in SLOWDOWNS) + " | raw CPU time: pair spread |")  # fmt: skip
    print("|---|---|---|---|---|" + "---|" * len(SLOWDOWNS) + "---|")
    for folder in args.evidence_dirs:
        try:
            pairs = a_a_pairs(Path(folder))
        except (ResultsError, OSError) as error:
            print(f"bench.evidence.rule_simulation: {error}", file=sys.stderr)
            return 2
        count = len(pairs)
        for kind in TIMED_KINDS:
            spread, raw_spread = pair_spread(pairs, kind), pair_spread(pairs, kind, raw_ratio)
            figures = simulate(spread, args.benchmarks)
            print(f"| {folder} ({count}) | {kind} | {spread:.2%} | "
                  f"{figures['false_alarm_per_benchmark']:.3%} | {figures['false_alarm_per_ci_run']:.1%} | "
                  + " | ".join(f"{figures['caught'][s]:.2f}" for s in SLOWDOWNS)
                  + f" | {raw_spread:.2%} |")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
