"""What a green check could have missed: per benchmark kind, the smallest slowdown this run would catch 9 times in 10.

A "no regression" from a quiet host and one from a noisy host read alike; they are not. The check's
own figures say how noisy this run was, per timed kind, in two ways:

- within the runs: the 95% CI of each benchmark's paired ratio (rounds against their partner or
  reference rounds), as a standard error ``σ_w`` on the log scale;
- between the runs: the benchmarks of one kind ran the same code in both commits wherever nothing
  changed, so the spread of their ratios around 1 (1.4826 × the median absolute log ratio, robust to
  one real change among them) is the run-to-run offset ``σ_b`` that no round inside a run sees.

``σ = max(σ_w, σ_b)`` for one pair. A true slowdown ``s`` is caught when the first pair screens it
(ratio ≥ 1 + SCREEN_THRESHOLD) and the rule of the pairs pooled flags it; with up to MAX_PAIRS pairs
pooled, σ shrinks as 1/√pairs and the rule's threshold and margin tighten (RULE_BY_PAIRS). Caught 9
times in 10 (z = 1.2816 one-sided) needs

    s ≥ max( SCREEN + z·σ,  min over n of [ max(threshold_n, margin_n + 1.96·σ/√n) + z·σ/√n ] ).

A normal approximation of the sequential check, stated as such; the evidence campaigns
(docs/evidence.md) measure the real detection rates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bench.check.rule import MAX_PAIRS, RULE_BY_PAIRS, SCREEN_THRESHOLD
from bench.core.kinds import TIMED

Z_90 = 1.2816  # one-sided: caught 9 times in 10
Z_CI = 1.96  # the CIs are 95%
TARGET = 0.05  # the slowdown the check is meant to catch
LABELS = dict(TIMED)


@dataclass(frozen=True)
class Resolution:
    kind: str
    benchmarks: int
    sigma_within: float
    sigma_between: float
    smallest: float  # the smallest slowdown caught 9 times in 10, as a fraction

    @property
    def sigma(self) -> float:
        return max(self.sigma_within, self.sigma_between)

    def words(self) -> str:
        return f"{LABELS.get(self.kind, self.kind)} ≥ {self.smallest:.1%}"


def smallest_caught(sigma: float) -> float:
    """The smallest slowdown the screen and the pooled rule catch 9 times in 10 at per-pair noise ``sigma``."""
    screened = SCREEN_THRESHOLD + Z_90 * sigma
    pooled = min(
        max(threshold, margin + Z_CI * sigma / math.sqrt(n)) + Z_90 * sigma / math.sqrt(n)
        for n, (threshold, margin) in RULE_BY_PAIRS.items()
        if n <= MAX_PAIRS
    )
    return max(screened, pooled)


def resolutions(verdicts: list, kinds: dict[str, str]) -> list[Resolution]:
    """Per timed kind present in ``verdicts`` (:class:`bench.check.compare.Verdict` of a first pair), its noise
    and the smallest slowdown caught."""
    found = []
    for kind, _ in TIMED:
        timed = [v for v in verdicts if kinds.get(v.benchmark) == kind and v.ci and v.median_ratio]
        if not timed:
            continue
        within = float(np.median([(math.log(v.ci[1]) - math.log(v.ci[0])) / (2 * Z_CI) for v in timed]))
        logs = np.log([v.median_ratio for v in timed])
        between = float(1.4826 * np.median(np.abs(logs))) if len(timed) >= 3 else 0.0
        found.append(Resolution(kind, len(timed), within, between, smallest_caught(max(within, between))))
    return found


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
