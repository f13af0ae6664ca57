"""Reaching the stated target on a noisy host: more side-by-side pairs for the kinds whose first pair cannot
resolve a 5% slowdown, until their pooled resolution can, or the time budget ends.

The first pair of ``bench regress`` states, per timed kind, the smallest slowdown it would catch 9 times in
10 (:mod:`bench.check.resolution`).  Where that is above the target, every benchmark of the kind is measured
again, pair after pair, and judged on all its pairs pooled (each round normalized within its own run).  Each
pair's run offsets are independent, so the pooled noise shrinks as 1/√pairs; the check stops adding pairs
for a kind as soon as its pooled resolution reaches the target, and stops altogether when the next pair would
not finish within the budget (the last pair's duration is the estimate) or at :data:`MOST_PAIRS`.  A host
quiet enough on its first pair measures nothing more.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from bench.check.compare import Verdict, pooled_timed_verdicts
from bench.check.resolution import TARGET, Resolution, pooled_resolution

#: pairs in all, the first included, that a kind may be measured in before the check gives up on the target
MOST_PAIRS = 8


@dataclass
class Reached:
    """Where adding pairs ended: each kind's last resolution, the pooled verdicts of its benchmarks, and why
    it stopped (None: every kind reached the target)."""

    resolutions: dict[str, Resolution]
    verdicts: dict[str, Verdict] = field(default_factory=dict)
    pairs: int = 1
    stopped_by: str | None = None
    seconds: float = 0.0

    def line(self) -> str:
        """The sentence the check prints: the target reached, or what stopped the pairs and where it stood."""
        from bench.check.resolution import resolution_line

        stated = resolution_line(list(self.resolutions.values()))
        if self.pairs == 1:
            return stated
        spent = f"{self.pairs - 1} more pair(s) in {self.seconds:.0f} s"
        if self.stopped_by is None:
            return f"target {TARGET:.0%} reached with {spent}: {stated}"
        return f"target {TARGET:.0%} not reached: {self.stopped_by} after {spent}; {stated}"


def reach_target(first_pair: tuple[dict, dict], first: list[Resolution], kinds: dict[str, str],
                 measure, budget_s: float, *, clock=time.monotonic) -> Reached:  # fmt: skip
    """Add pairs for the kinds of ``first`` (the first pair's resolutions) above the target.

    ``kinds`` maps each timed benchmark compared to its kind; ``measure(number, names)`` measures pair
    ``number`` (2, 3, ...) of ``names`` side by side and returns its (baseline, current) results.
    """
    stated = {r.kind: r for r in first}
    pending = [r.kind for r in first if r.smallest > TARGET]
    reached = Reached(dict(stated))
    measured: list[tuple[tuple[dict, dict], set[str]]] = []
    started, last = clock(), 0.0
    while pending:
        number = len(measured) + 2
        if number > MOST_PAIRS:
            reached.stopped_by = f"the most pairs a check measures ({MOST_PAIRS})"
            break
        if clock() - started + last > budget_s:
            reached.stopped_by = f"the {budget_s:.0f} s budget (--budget)"
            break
        names = [name for name, kind in kinds.items() if kind in pending]
        before = clock()
        measured.append((measure(number, names), set(names)))
        last = clock() - before
        reached.pairs = number
        for kind in list(pending):
            of_kind = [name for name, k in kinds.items() if k == kind]
            pairs = [first_pair] + [pair for pair, names_in in measured if set(of_kind) <= names_in]
            verdicts = pooled_timed_verdicts([p[0] for p in pairs], [p[1] for p in pairs], of_kind)
            reached.verdicts.update({v.benchmark: v for v in verdicts})
            reached.resolutions[kind] = pooled_resolution(stated[kind], verdicts, len(pairs))
            if reached.resolutions[kind].smallest <= TARGET:
                pending.remove(kind)
    reached.seconds = clock() - started
    return reached
