"""Statistics for benchmark figures: bootstrap confidence intervals and rank tests (scipy)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
RESAMPLES = 2000
SEED = 12345
#: resampled values held at once at most (32 MB of floats): more rounds than this allows are resampled
#: in batches, so memory stays bounded however many rounds a file holds (fewer draw all at once, as always)
MAX_RESAMPLED = 4_000_000


def _batch(*samples) -> int | None:
    """Resamples per batch for :func:`scipy.stats.bootstrap`: None (all at once) where MAX_RESAMPLED allows."""
    values = sum(len(sample) for sample in samples)
    return None if values * RESAMPLES <= MAX_RESAMPLED else max(1, MAX_RESAMPLED // values)


def median_ci(values, *, transform=None) -> tuple[float, float, float]:
    """(median, low, high) of ``values`` with a 95% percentile-bootstrap CI; ``transform`` maps the median."""
    data = np.asarray(values, dtype=float)
    transform = transform or (lambda x: x)
    point = transform(float(np.median(data)))
    if len(data) < 3 or np.all(data == data[0]):
        return point, point, point
    result = stats.bootstrap(
        (data,),
        np.median,
        confidence_level=CONFIDENCE,
        n_resamples=RESAMPLES,
        batch=_batch(data),
        method="percentile",
        rng=np.random.default_rng(SEED),
    )
    bounds = sorted((transform(result.confidence_interval.low), transform(result.confidence_interval.high)))
    return point, bounds[0], bounds[1]


@dataclass(frozen=True)
class RatioComparison:
    """median(current) / median(baseline) with its bootstrap CI and a two-sided Mann-Whitney p-value."""

    ratio: float
    low: float
    high: float
    p_value: float


def compare_samples(current, baseline) -> RatioComparison:
    """Compare two independent samples of a positive quantity (per-round times or time ratios)."""
    current = np.asarray(current, dtype=float)
    baseline = np.asarray(baseline, dtype=float)
    ratio = float(np.median(current) / np.median(baseline))
    if len(current) < 3 or len(baseline) < 3:
        return RatioComparison(ratio, ratio, ratio, 1.0)
    result = stats.bootstrap(
        (current, baseline),
        lambda c, b, axis=-1: np.median(c, axis=axis) / np.median(b, axis=axis),
        confidence_level=CONFIDENCE,
        n_resamples=RESAMPLES,
        method="percentile",
        vectorized=True,
        batch=_batch(current, baseline),
        rng=np.random.default_rng(SEED),
    )
    p_value = float(stats.mannwhitneyu(current, baseline, alternative="two-sided").pvalue)
    return RatioComparison(
        ratio, float(result.confidence_interval.low), float(result.confidence_interval.high), p_value
    )


def replicates_agree(ratios, *, slower: bool) -> float:
    """One-sided p-value that independent replicate ratios (one per pair of runs) lie above 1 (``slower``)
    or below it: a one-sample t-test on their logarithms, so each process's own offset counts as noise
    between replicates, which no statistic over the rounds of one process can see.  1.0 where undefined.
    """
    logs = np.log(np.asarray(ratios, dtype=float))
    if len(logs) < 2:
        return 1.0
    if np.all(logs == logs[0]):
        return 0.0 if (logs[0] > 0) == slower and logs[0] != 0 else 1.0
    p_value = stats.ttest_1samp(logs, 0.0, alternative="greater" if slower else "less").pvalue
    return 1.0 if np.isnan(p_value) else float(p_value)
