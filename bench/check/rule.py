"""The regression rule: how much slower, how sure, over how many pairs of runs (one definition the check,
its resolution and the evidence read)."""

from __future__ import annotations

#: A timed benchmark regresses when its normalized time is up by at least a threshold, the CI's lower
#: bound lies above 1 + a margin and Mann-Whitney p < SIGNIFICANCE.  Threshold and margin by how many
#: pairs of runs (baseline, current) the verdict stands on: one comparison (bench compare, and the first
#: pair of bench regress) needs 5%; the rounds of several pairs pooled (bench regress) need less as the
#: pairs add up, because the rounds of one process share its offset (about 1% on AMD EPYC and 2% on
#: Intel Xeon hosts of the CI kind, per pair, reports/evidence/) and pooling independent processes
#: shrinks it.  At the Intel host's A/A spreads, bench.evidence.rule_simulation puts the chance that 18 A/A
#: benchmarks raise a false alarm in a CI run at about 2%, and a steady 5% slowdown caught 86-96% of the
#: time per kind; at AMD EPYC's, no false alarm, and a 4% slowdown caught 83-100% of the time.
RULE_BY_PAIRS = {1: (0.05, 0.02), 2: (0.05, 0.02), 3: (0.04, 0.015), 4: (0.03, 0.01)}
SIGNIFICANCE = 0.01
#: ... and, on pooled pairs, the pairs must agree: a one-sided t-test over the per-pair ratios (the
#: pairs are the replicates; the rounds of one process are not) below this.  Some benchmarks (batch-1
#: ``resnet``) carry per-process offsets of 5-12% now and then: two such offsets in a row can pool past
#: the threshold, but their pairs disagree, while a real slowdown reads alike in every pair
PAIR_SIGNIFICANCE = 0.05
#: bench regress measures a timed benchmark again when one comparison shows it this much slower (see
#: suspected_slowdowns) ...
SCREEN_THRESHOLD = 0.02
#: ... and, after each further pair, judges every suspect on all its pairs pooled: one that is neither a
#: regression nor back under the screen threshold is measured once more, up to this many pairs in all (a
#: sequential test: more rounds only where the answer is still close)
MAX_PAIRS = max(RULE_BY_PAIRS)
