"""The regression rule: how much slower, how sure, over how many pairs of runs (one definition the check,
its resolution and the evidence read)."""

from __future__ import annotations

#: A timed benchmark regresses when its normalized time is up by at least a threshold, the CI's lower
#: bound lies above 1 + a margin and Mann-Whitney p < SIGNIFICANCE.  Threshold and margin by how many
#: pairs of runs (baseline, current) the verdict stands on: one comparison (bench compare, and the first
#: pair of bench regress) needs the most; the rounds of several pairs pooled (bench regress) need less as
#: the pairs add up, because the rounds of one process share its offset and pooling independent processes
#: shrinks it.  The false-alarm and miss rates these give on stored A/A pairs: bench.evidence.rule_simulation
#: (docs/evidence.md).
RULE_BY_PAIRS = {1: (0.05, 0.02), 2: (0.05, 0.02), 3: (0.04, 0.015), 4: (0.03, 0.01)}
SIGNIFICANCE = 0.01
#: ... and, on pooled pairs, the pairs must agree: a one-sided t-test over the per-pair ratios (the
#: pairs are the replicates; the rounds of one process are not) below this.  Some benchmarks (batch-1
#: ``resnet``) carry large per-process offsets now and then: two such offsets in a row can pool past
#: the threshold, but their pairs disagree, while a real slowdown reads alike in every pair
PAIR_SIGNIFICANCE = 0.05
#: bench regress measures a timed benchmark again when one comparison shows it this much slower (see
#: suspected_slowdowns) ...
SCREEN_THRESHOLD = 0.02
#: ... and, after each further pair, judges every suspect on all its pairs pooled: one that is neither a
#: regression nor back under the screen threshold is measured once more, up to this many pairs in all (a
#: sequential test: more rounds only where the answer is still close)
MAX_PAIRS = max(RULE_BY_PAIRS)
