"""Change points of a series: where its level moved, dated to a commit range, with before, after, ratio, p.

Detection (chosen by measurement, docs/history.md): PELT (``ruptures``) with a least-squares cost on the
logarithm of each commit's median normalized time and a penalty of :data:`PENALTY` σ² log n, where σ is
the series' own noise (the median absolute difference of successive commits, scaled to a standard
deviation); every break it finds is then tested: a Welch t-test between the runs of the segments on
either side must give p < :data:`MAX_P`.  How it did on the stored evidence campaigns, against Apache Otava's
E-divisive and ``asv.step_detect``: docs/history.md.

The series is cut at each annotation (an intended shift: an upgrade, a new runner) and each piece is
searched on its own, so an annotated shift is never reported as a change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import ruptures
from scipy import stats

from bench.core.kinds import TIMED_KINDS

#: the penalty per break, in units of σ² log n (BIC's is 2; 4 keeps A/A series quiet, docs/history.md)
PENALTY = 4.0
#: a break must also separate its two segments' runs at this significance (Welch's t-test)
MAX_P = 0.001
#: fewest commits on each side of a change
MIN_COMMITS = 3
#: a slowdown of at least this much is a regression for ``history changes``' exit status: the smallest
#: the side-by-side check's rule ever calls one (4 pooled pairs)
REGRESSION_THRESHOLD = 0.03
#: the figure a series is searched on (timed kinds only: up is slower); accuracy, with fixed seeds and
#: deterministic ops, repeats exactly, and the check compares it directly
METRIC = "normalized"


@dataclass
class Change:
    """One change point of one series."""

    benchmark: str
    machine: str
    backend: str
    profile: str
    environment: str
    last_before: str  # full commit id of the last commit before the change
    first_after: str  # ... and of the first at or after it
    before: float  # median of the segment before (normalized time)
    after: float
    ratio: float  # after / before
    p: float
    regression: bool
    runs_before: int
    runs_after: int

    def to_json(self) -> dict:
        return asdict(self)


def noise(levels: np.ndarray) -> float:
    """σ of a series' commit levels from successive differences (robust to the steps themselves)."""
    steps = np.diff(levels)
    if len(steps) < 2:
        return 0.0
    return float(1.4826 * np.median(np.abs(steps - np.median(steps))) / np.sqrt(2))


def breaks(levels: np.ndarray) -> list[int]:
    """Indices i (0 < i < n) where the level moves between commit i-1 and commit i, by PELT."""
    n = len(levels)
    if n < 2 * MIN_COMMITS:
        return []
    sigma = noise(levels)
    if sigma == 0.0:
        sigma = float(np.std(levels)) or 1e-12
    found = ruptures.Pelt(model="l2", min_size=MIN_COMMITS, jump=1).fit(levels.reshape(-1, 1))
    return list(found.predict(pen=PENALTY * sigma**2 * np.log(n))[:-1])


def _tested(logs_by_commit: list[np.ndarray], cuts: list[int]) -> list[tuple[int, float]]:
    """The breaks whose neighbouring segments' runs differ by Welch's t-test at MAX_P, with their p."""
    bounds = [0, *cuts, len(logs_by_commit)]
    kept = []
    for j in range(1, len(bounds) - 1):
        left = np.concatenate(logs_by_commit[bounds[j - 1] : bounds[j]])
        right = np.concatenate(logs_by_commit[bounds[j] : bounds[j + 1]])
        p = (
            float(stats.ttest_ind(left, right, equal_var=False).pvalue)
            if min(len(left), len(right)) > 1
            else 1.0
        )
        if np.isfinite(p) and p < MAX_P:
            kept.append((bounds[j], p))
    return kept


def _pieces(rows: pd.DataFrame, restarts: set[str]) -> list[pd.DataFrame]:
    """The series cut before the first run of each annotated commit."""
    starts = [i for i, commit in enumerate(rows["commit_id"]) if commit in restarts
              and (i == 0 or rows["commit_id"].iloc[i - 1] != commit)]  # fmt: skip
    bounds = [0, *[s for s in starts if s > 0], len(rows)]
    return [rows.iloc[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]


def restarts_for(key: dict, annotations: pd.DataFrame) -> set[str]:
    """The annotated commits that apply to a series (its machine and benchmark, or every one)."""
    if annotations.empty:
        return set()
    applies = (annotations["machine"].isna() | (annotations["machine"] == key["machine"])) & (
        annotations["benchmark"].isna() | (annotations["benchmark"] == key["benchmark"])
    )
    return set(annotations.loc[applies, "commit_id"])


def series_changes(key: dict, rows: pd.DataFrame, restarts: set[str]) -> list[Change]:
    """The change points of one series (rows in commit order), oldest first; detection restarts at each of
    ``restarts`` (:func:`restarts_for`)."""
    if rows["kind"].iloc[0] not in TIMED_KINDS:
        return []
    metric = METRIC
    rows = rows[np.isfinite(rows[metric].astype(float)) & (rows[metric] > 0)]
    found = []
    for piece in _pieces(rows, restarts):
        commits = list(dict.fromkeys(piece["commit_id"]))  # in order, once each
        logs = [np.log(piece.loc[piece["commit_id"] == c, metric].to_numpy(float)) for c in commits]
        levels = np.array([np.median(values) for values in logs])
        kept = _tested(logs, breaks(levels))
        bounds = [0, *[cut for cut, _ in kept], len(commits)]
        for j, (cut, p) in enumerate(kept, start=1):
            before_runs, after_runs = (np.concatenate(logs[a:b]) for a, b in
                                       ((bounds[j - 1], cut), (cut, bounds[j + 1])))  # fmt: skip
            before, after = float(np.exp(np.median(before_runs))), float(np.exp(np.median(after_runs)))
            ratio = after / before
            found.append(Change(
                key["benchmark"], key["machine"], key["backend"], key["profile"], key["environment"],
                commits[cut - 1], commits[cut], before, after, ratio, p,
                ratio >= 1 + REGRESSION_THRESHOLD, len(before_runs), len(after_runs),
            ))  # fmt: skip
    return found


def newest_regressions(changes: list[Change]) -> list[Change]:
    """The changes that are the newest of their series and a regression: what ``history changes`` fails on."""
    newest: dict[tuple, Change] = {}
    for change in changes:  # in order within each series
        newest[(change.benchmark, change.machine, change.backend, change.profile, change.environment)] = (
            change
        )
    return [change for change in newest.values() if change.regression]
