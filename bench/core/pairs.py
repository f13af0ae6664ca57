"""Arithmetic on one side-by-side pair of runs (baseline, current): the ratios the check, the gate and the
evidence read from the rounds both runs recorded."""

from __future__ import annotations

import numpy as np

from bench.core.results import normalized_times, timed_rounds


def pair_rounds(pair: tuple[dict, dict], bench: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """(model, reference) CPU seconds per round of ``bench`` in the baseline and the variant run of a pair."""
    rows = [{b["name"]: b for b in results["benchmarks"]}[bench] for results in pair]
    return [timed_rounds(row["extra_info"], []) for row in rows]


def observed_ratio(pair: tuple[dict, dict], bench: str) -> float:
    """current / baseline of ``bench``'s median normalized round in one (baseline, variant) pair: the
    slowdown the plant caused there."""
    base, current = (normalized_times(*rounds) for rounds in pair_rounds(pair, bench))
    return float(np.median(current) / np.median(base))


def raw_ratio(pair: tuple[dict, dict], bench: str) -> float:
    """current / baseline of ``bench``'s median model CPU time in one pair, not divided by the reference:
    what a change in the framework's own kernels, which the normalized ratio mostly cancels, shows as."""
    (base, _), (current, _) = pair_rounds(pair, bench)
    return float(np.median(current) / np.median(base))
