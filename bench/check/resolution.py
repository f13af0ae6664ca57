"""What a green check could have missed: per benchmark kind, the smallest slowdown this run would catch 9 times in 10.

A "no regression" from a quiet host and one from a noisy host read alike; they are not. The check's
own figures say how noisy this run was, per timed kind, in two ways:

- within the runs: the 95% CI of each benchmark's paired ratio (rounds against their partner or
  reference rounds), as a standard error ``σ_w`` on the log scale;
- between the runs, ``σ_b``, from parts known to be unchanged, so that a change moving every benchmark (a
  slower Keras or TensorFlow release) is read as a change and never as noise: the larger of
  (a) the spread of the kind's ratios around *their own median* (1.4826 × the median absolute deviation
  of the log ratios; 0 for fewer than three benchmarks), which a change moving them all leaves alone, and
  (b) the A/A pairs' spread calibrated for the host's CPU model on the stored campaigns, less what the
  run's own CIs hold (the calibration is an A/A pair's whole spread)
  (``reports/baselines/between-runs.json``, written by ``python -m bench.evidence.stated_resolution
  --calibrate``; a CPU model without one takes the largest calibrated), which catches the per-process
  offset that every benchmark of a run shares and (a) cannot see.

``σ = √(σ_w² + σ_b²)`` for one pair (the two are independent: a pair's ratio carries both). A true slowdown ``s`` is caught when the first pair screens it
(ratio ≥ 1 + SCREEN_THRESHOLD) and the rule of the pairs pooled flags it; with up to MAX_PAIRS pairs
pooled, σ shrinks as 1/√pairs and the rule's threshold and margin tighten (RULE_BY_PAIRS). Caught 9
times in 10 (z = 1.2816 one-sided) needs

    s ≥ max( SCREEN + z·σ,  min over n of max[ max(threshold_n, margin_n + 1.96·σ/√n) + z·σ/√n,  δ_n·σ/√n ] ),

δ_n the shift at which the pairs' agreement test (one-sided t, n - 1 degrees of freedom) passes 9 times in
10 (10.5 for two pairs, 4.8 for three, 3.9 for four).

When every benchmark of a kind is measured in ``n`` pairs and judged on them pooled (how ``bench regress``
reaches the target on a noisy host, :mod:`bench.check.reach`), no screen stands in the way:

    s ≥ max( max(threshold_n, margin_n + 1.96·σ_n) + z·σ_n,  δ_n·σ_n ),   σ_n the pooled pairs' noise.

A normal approximation of the sequential check, stated as such; ``python -m bench.evidence.resolution``
checks it on the stored campaigns of real hosts (docs/regression-check.md).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from bench.check.rule import MAX_PAIRS, PAIR_SIGNIFICANCE, RULE_BY_PAIRS, SCREEN_THRESHOLD
from bench.core.kinds import TIMED
from bench.core.paths import BASELINES

Z_90 = 1.2816  # one-sided: caught 9 times in 10
Z_CI = 1.96  # the CIs are 95%
TARGET = 0.05  # the slowdown the check is meant to catch
LABELS = dict(TIMED)
#: per CPU model and timed kind, the between-runs σ of A/A pairs on the stored campaigns
CALIBRATION = BASELINES / "between-runs.json"


@dataclass(frozen=True)
class Resolution:
    kind: str
    benchmarks: int
    sigma_within: float
    sigma_between: float
    smallest: float  # the smallest slowdown caught 9 times in 10, as a fraction
    pairs: int = 1  # the pairs of runs pooled for every benchmark of the kind

    @property
    def sigma(self) -> float:
        return math.hypot(self.sigma_within, self.sigma_between)

    def words(self) -> str:
        pooled = f" ({self.pairs} pairs pooled)" if self.pairs > 1 else ""
        return f"{LABELS.get(self.kind, self.kind)} ≥ {self.smallest:.1%}{pooled}"


def smallest_caught(sigma: float, most_pairs: int = MAX_PAIRS) -> float:
    """The smallest slowdown the screen and the pooled rule catch 9 times in 10 at per-pair noise ``sigma``,
    with up to ``most_pairs`` pairs pooled."""
    screened = SCREEN_THRESHOLD + Z_90 * sigma
    # a timed benchmark is only a suspect on its first pair: bench regress confirms it on two pairs or more
    confirming = [n for n in RULE_BY_PAIRS if (n >= 2 or most_pairs == 1) and n <= min(MAX_PAIRS, most_pairs)]
    pooled = min(pooled_caught(sigma / math.sqrt(n), n) for n in confirming)
    return max(screened, pooled)


@functools.cache
def _agreement_shift(pairs: int) -> float:
    """How many standard errors of their mean the per-pair log ratios must lie above 0 for the pairs' one-sided
    t-test (PAIR_SIGNIFICANCE, pairs - 1 degrees of freedom) to pass 9 times in 10: the noncentrality at which
    the noncentral t has 90% of its mass past the test's critical value."""
    critical = stats.t.ppf(1 - PAIR_SIGNIFICANCE, pairs - 1)
    return float(optimize.brentq(lambda shift: stats.nct.sf(critical, pairs - 1, shift) - 0.9, 0.01, 500.0))


def pooled_caught(sigma: float, pairs: int) -> float:
    """The smallest slowdown caught 9 times in 10 when a benchmark is judged on ``pairs`` pairs pooled, at
    pooled noise ``sigma`` (the per-pair noise over √pairs): the rule's threshold, its CI margin, and, on two or
    more pairs, the pairs' agreement (a t-test with pairs - 1 degrees of freedom: two pairs rarely agree)."""
    threshold, margin = RULE_BY_PAIRS[min(pairs, MAX_PAIRS)]
    rule = max(threshold, margin + Z_CI * sigma) + Z_90 * sigma
    return max(rule, _agreement_shift(pairs) * sigma) if pairs >= 2 else rule


def spread_around_median(logs) -> float:
    """σ of log ratios around their own median (scaled MAD); 0 for fewer than three."""
    logs = np.asarray(logs, float)
    return float(1.4826 * np.median(np.abs(logs - np.median(logs)))) if len(logs) >= 3 else 0.0


def calibrated_between(cpu_model: str | None, kind: str) -> float:
    """The A/A between-runs σ of ``kind`` calibrated for ``cpu_model``; the largest calibrated for a CPU
    model without a calibration; 0 where there is no calibration file."""
    try:
        models = json.loads(CALIBRATION.read_text(encoding="utf-8"))["cpu_models"]
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0
    known = models.get(cpu_model) if isinstance(models, dict) else None
    if isinstance(known, dict) and isinstance(known.get(kind), (int, float)):
        return float(known[kind])
    values = [m.get(kind) for m in (models.values() if isinstance(models, dict) else []) if isinstance(m, dict)]
    return max((float(v) for v in values if isinstance(v, (int, float))), default=0.0)


def resolutions(verdicts: list, kinds: dict[str, str], cpu_model: str | None = None,
                most_pairs: int = MAX_PAIRS) -> list[Resolution]:  # fmt: skip
    """Per timed kind present in ``verdicts`` (:class:`bench.check.compare.Verdict` of a first pair), its noise
    and the smallest slowdown caught, on a host of ``cpu_model``, with up to ``most_pairs`` pairs."""
    found = []
    for kind, _ in TIMED:
        timed = [v for v in verdicts if kinds.get(v.benchmark) == kind and v.ci and v.median_ratio]
        if not timed:
            continue
        within = float(np.median([(math.log(v.ci[1]) - math.log(v.ci[0])) / (2 * Z_CI) for v in timed]))
        # the calibration is an A/A pair's whole spread: the part this run's CIs do not already hold
        calibrated = math.sqrt(max(0.0, calibrated_between(cpu_model, kind) ** 2 - within**2))
        between = max(spread_around_median(np.log([v.median_ratio for v in timed])), calibrated)
        found.append(Resolution(kind, len(timed), within, between,
                                smallest_caught(math.hypot(within, between), most_pairs)))  # fmt: skip
    return found


def pooled_resolution(first: Resolution, pooled_verdicts: list, pairs: int) -> Resolution:
    """The kind's resolution after ``pairs`` pairs pooled for each of its benchmarks: the pooled verdicts'
    CIs for ``σ_w``, the first pair's ``σ_b`` divided by √pairs (each pair's run offsets are independent)."""
    within = float(np.median([(math.log(v.ci[1]) - math.log(v.ci[0])) / (2 * Z_CI) for v in pooled_verdicts]))
    between = first.sigma_between / math.sqrt(pairs)
    return Resolution(first.kind, first.benchmarks, within, between,
                      pooled_caught(math.hypot(within, between), pairs), pairs)  # fmt: skip


def resolution_line(found: list[Resolution]) -> str:
    """One line for the verdict: what this run would have caught, or that the host is too noisy for it."""
    if not found:
        return "resolution: no timed benchmark compared"
    caught = ", ".join(r.words() for r in found)
    noisy = [r for r in found if r.smallest > TARGET]
    if not noisy:
        return f"this run would have caught, 9 times in 10: {caught}"
    names = ", ".join(LABELS.get(r.kind, r.kind) for r in noisy)
    return (
        f"this host is too noisy for the {TARGET:.0%} target on {names}: this run would have caught, "
        f"9 times in 10, only {caught}"
    )
