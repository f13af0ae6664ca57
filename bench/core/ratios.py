"""Time ratios between cells of one run, with 95% CIs, on the pairing basis the run recorded.

A ratio's CI is a bootstrap over rounds (tens of milliseconds): a report works each out once, in its
analysis (:mod:`bench.report.analysis`), which every renderer reads; the top-ups ask for the precision
of the train-step ratios here (:func:`median_half_width`).

Every timed round was paired with a partner workload run just before and just after
it (:mod:`bench.run.reference`).  In the quick and full profiles the partner is the same
architecture's Functional model, so a round divided by its partner rounds *is* the
API's time relative to Functional, measured side by side: the ratio is the median of
those paired ratios, its CI a bootstrap over rounds.  Files paired with the native
reference (the ci profile, older files) are compared as two samples of
reference-normalized times instead; the CI is then wider, and it says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from bench.core import results as results_io
from bench.core.stats import compare_samples, median_ci

BASE_API = results_io.PARTNER_API  # every API is compared with Functional
MIN_ROUNDS = 5  # fewer rounds than this per cell: no ratio
NOISE_FLOOR = 0.05  # ratios within 1 ± this are called equal in practice, even when the CI excludes 1


@dataclass(frozen=True)
class Ratio:
    """time(cell) / time(other) with its 95% CI; ``paired``: from rounds measured side by side."""

    ratio: float
    low: float
    high: float
    paired: bool

    def __str__(self) -> str:
        return f"{self.ratio:.3f} [{self.low:.3f}–{self.high:.3f}]"

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2

    @property
    def settled(self) -> bool:
        """The CI excludes 1: this run tells the two apart."""
        return self.low > 1 or self.high < 1

    @property
    def meaningful(self) -> bool:
        """Told apart, and by at least the noise floor."""
        return self.settled and abs(self.ratio - 1) >= NOISE_FLOOR

    def words(self) -> str:
        """'indistinguishable within ±1.2%', '7% slower' or '3% faster (under 5%)'."""
        if not self.settled:
            return f"indistinguishable within ±{max(1 - self.low, self.high - 1):.1%}"
        size = f"{abs(self.ratio - 1):.0%} {'slower' if self.ratio > 1 else 'faster'}"
        return size if self.meaningful else f"{size} (under {NOISE_FLOOR:.0%})"


def apis_in(frame: pd.DataFrame, arch: str) -> list[str]:
    """The APIs of ``arch`` that a run measured or probed (a models file gives some of them), in report order."""
    from bench.core.kinds import APIS

    rows = frame[frame["arch"] == arch]
    seen = set(rows["api"].dropna())
    for extra in rows["extra"]:
        if isinstance(extra, dict) and isinstance(extra.get("capabilities"), dict):
            seen |= set(extra["capabilities"])
    return [api for api in APIS if api in seen]


def normalized(row) -> np.ndarray:
    """Round times (CPU time where recorded) divided by the partner rounds around each."""
    return results_io.normalized_times(*results_io.timed_rounds(row.extra, row.data))


def paired_with_functional(row) -> bool:
    return row.extra.get("reference") == f"{row.arch}-{BASE_API}"


def cells(frame: pd.DataFrame, kind: str) -> dict[tuple[str, str, str], object]:
    """(backend, arch, api) → the frame's row of benchmark ``kind``."""
    rows = frame[frame["kind"] == kind]
    return {(row.backend, row.arch, row.api): row for row in rows.itertuples()}


def to_functional(frame: pd.DataFrame, backend: str, arch: str, api: str, kind: str) -> Ratio | str:
    """time(api) / time(Functional) for ``kind``, or the reason there is none.

    For the Functional cell of a paired run this is an A/A ratio that should be 1 and
    shows what the pairing leaves (:func:`aa_basis` says against what).
    """
    by_cell = cells(frame, kind)
    row = by_cell.get((backend, arch, api))
    if row is None or not len(row.data):
        return "not measured in this run"
    if len(row.data) < MIN_ROUNDS:
        return f"fewer than {MIN_ROUNDS} rounds"
    if paired_with_functional(row):
        ratio, low, high = median_ci(normalized(row))
        return Ratio(ratio, low, high, paired=True)
    base = by_cell.get((backend, arch, BASE_API))
    if api == BASE_API:
        return "the base of the comparison"
    if base is None or len(base.data) < MIN_ROUNDS:
        return "Functional not measured in this run"
    c = compare_samples(normalized(row), normalized(base))
    return Ratio(c.ratio, c.low, c.high, paired=False)


TARGET_HALF_WIDTH = 0.02  # the precision a train-step ratio should reach for a 5% difference to be settled


def half_widths_of(found: dict[tuple[str, str, str, str], Ratio | str], backend: str, kind: str) -> dict[str, float]:
    """Cell id → 95% CI half-width of its paired ratio to Functional, among ``found`` ((backend, arch, API,
    kind) → ratio), for ``backend``'s Keras cells (neither Functional itself nor native code) of ``kind``."""
    return {
        f"{arch}-{api}": r.half_width
        for (b, arch, api, k), r in found.items()
        if b == backend and k == kind and api not in (BASE_API, "native") and isinstance(r, Ratio) and r.paired
    }


def half_widths(frame: pd.DataFrame, backend: str, kind: str) -> dict[str, float]:
    """:func:`half_widths_of` every ratio to Functional of ``backend``'s cells of ``kind`` in ``frame``."""
    found = {(b, arch, api, kind): to_functional(frame, b, arch, api, kind)
             for (b, arch, api) in cells(frame, kind) if b == backend}  # fmt: skip
    return half_widths_of(found, backend, kind)


def median_half_width(frame: pd.DataFrame, backend: str, kind: str) -> float | None:
    """Median of :func:`half_widths`; None where no cell is paired."""
    return median_of(half_widths(frame, backend, kind))


def median_of(widths: dict[str, float]) -> float | None:
    """The median of half-widths; None where there are none."""
    return float(np.median(list(widths.values()))) if widths else None


def aa_basis(frame: pd.DataFrame) -> str:
    """What the Functional rows of ``frame`` were compared with, in words, for the A/A ratios."""
    functional = frame[frame["api"] == BASE_API]
    derived = [("derived_from" in extra) for extra in functional["extra"] if "reference" in extra]
    itself = (
        "Functional against itself: its rounds as the other cells' partner, each divided by the partner "
        "rounds just before and after it"
    )
    if derived and all(derived):
        return itself
    if any(derived):
        return f"{itself} (against an identical twin in the files that timed Functional as a cell)"
    return "Functional against an identical twin"


def between(frame: pd.DataFrame, backend: str, arch: str, api: str, other: str, kind: str) -> Ratio | str:
    """time(api) / time(other), both as normalized by their partners (two samples; e.g. Keras / native)."""
    by_cell = cells(frame, kind)
    row, base = by_cell.get((backend, arch, api)), by_cell.get((backend, arch, other))
    if row is None or base is None or not len(row.data) or not len(base.data):
        return "not measured in this run"
    if min(len(row.data), len(base.data)) < MIN_ROUNDS:
        return f"fewer than {MIN_ROUNDS} rounds"
    c = compare_samples(normalized(row), normalized(base))
    return Ratio(c.ratio, c.low, c.high, paired=paired_with_functional(row) and paired_with_functional(base))
