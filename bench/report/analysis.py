"""A report's analysis, computed once: every time ratio with its CI, the capability verdicts, each verdict.

:func:`analyse` reads a frame of results (one or more files, repeats pooled) and works out, for every cell
and timed kind, the ratio to Functional and to native code (:mod:`bench.core.ratios`, a bootstrap each),
the capability verdicts by backend as the runs recorded them, and per architecture each API's drawbacks and
the choice they make (:mod:`bench.report.drawbacks`).  The renderers (the answer, the per-backend tables,
the details, the findings blocks, the plots) read an :class:`Analysis` and compute no figure of their own,
so every part of a report shows the same figures and none is worked out twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from bench.core import ratios
from bench.core.kinds import NATIVE, TIMED
from bench.core.ratios import BASE_API, Ratio
from bench.core.results import archs_of
from bench.report import drawbacks as rules

NOT_MEASURED = "not measured in this run"


@dataclass(frozen=True)
class Decision:
    """One architecture's verdict: where it was measured, what its runs probed, each API's drawbacks, the
    choice they make."""

    backends: list[str]
    capabilities: dict[str, dict[str, dict[str, str]]]  # backend -> API -> probe -> verdict, where probed
    drawbacks: dict[str, list[rules.Drawback]]
    lines_of_code: dict[str, int]
    choice: rules.Choice


@dataclass(frozen=True)
class Analysis:
    """What a report shows, keyed as the renderers ask for it; see :func:`analyse`."""

    frame: pd.DataFrame
    backends: list[str]
    archs: list[str]
    apis: dict[str, list[str]]  # arch -> the APIs measured or probed (native included), in report order
    rows: dict[str, dict[tuple[str, str, str], object]]  # kind -> (backend, arch, API) -> the frame's row
    to_functional: dict[tuple[str, str, str, str], Ratio | str]  # (backend, arch, API, kind) -> ratio or why not
    to_native: dict[tuple[str, str, str, str], Ratio | str]  # the same, time(API) ÷ time(native code)
    capabilities: dict[str, dict[str, dict[str, dict[str, str]]]]  # backend -> arch -> API -> probe -> verdict
    capability_notes: list[str]  # backends whose results hold no probes for an architecture they time
    decisions: dict[str, Decision] = field(default_factory=dict)

    def cells(self, kind: str) -> dict[tuple[str, str, str], object]:
        """(backend, arch, API) -> the row of benchmark ``kind``."""
        return self.rows.get(kind, {})

    def ratio(self, backend: str, arch: str, api: str, kind: str) -> Ratio | str:
        """time(API) ÷ time(Functional) for ``kind``, or the reason there is none."""
        return self.to_functional.get((backend, arch, api, kind), NOT_MEASURED)

    def against_native(self, backend: str, arch: str, api: str, kind: str) -> Ratio | str:
        """time(API) ÷ time(the native model) for ``kind``, or the reason there is none."""
        return self.to_native.get((backend, arch, api, kind), NOT_MEASURED)

    def measured(self, backend: str, arch: str) -> bool:
        """Whether the results hold any row of ``arch`` on ``backend``."""
        return ((self.frame["backend"] == backend) & (self.frame["arch"] == arch)).any()

    def median_half_width(self, backend: str, kind: str) -> float | None:
        """The median 95% CI half-width of ``backend``'s paired ratios of ``kind`` (the run's precision)."""
        return ratios.median_of(ratios.half_widths_of(self.to_functional, backend, kind))


def capabilities_by_backend(frame: pd.DataFrame) -> tuple[dict, list[str]]:
    """{backend: {arch: {API: {capability: verdict}}}} as the results recorded them (``bench run`` probes;
    a report never does), and a note per backend whose results hold no probes for an architecture they time."""
    found: dict = {}
    for row in frame[frame["kind"] == "capabilities"].itertuples():
        found.setdefault(row.backend, {})[row.arch] = row.extra["capabilities"]
    notes = []
    for backend in sorted(frame["backend"].dropna().unique()):
        missing = [
            arch
            for arch in archs_of(frame)
            if arch not in found.get(backend, {})
            and ((frame["backend"] == backend) & (frame["arch"] == arch)).any()
        ]
        if missing:
            notes.append(
                f"The {backend} results hold no capability probes ({', '.join(missing)}): not shown. "
                "`bench run` records them in profiles that probe (quick, full) unless `-k` leaves them out."
            )
    return found, notes


def _decision(analysis: Analysis, arch: str) -> Decision:
    present = [b for b in analysis.backends if analysis.measured(b, arch)]
    probed = {b: analysis.capabilities.get(b, {}).get(arch, {}) for b in present}
    probed = {b: caps for b, caps in probed.items() if caps}
    found = rules.drawbacks(analysis, present, arch, probed)
    loc = rules.lines_of_code(probed)
    return Decision(present, probed, found, loc, rules.choose(found, loc))


def analyse(frame: pd.DataFrame) -> Analysis:
    """Every figure and verdict a report of ``frame`` shows, each worked out once."""
    backends = sorted(frame["backend"].dropna().unique())
    archs = archs_of(frame)
    apis = {arch: ratios.apis_in(frame, arch) for arch in archs}
    kinds = [kind for kind in frame["kind"].dropna().unique()]
    rows = {kind: ratios.cells(frame, kind) for kind in kinds}
    timed = [kind for kind, _ in TIMED]
    to_functional, to_native = {}, {}
    for backend in backends:
        for arch in archs:
            shown = apis[arch] + ([NATIVE] if any((backend, arch, NATIVE) in rows.get(k, {}) for k in timed) else [])
            for api in dict.fromkeys(shown):
                for kind in timed:
                    if (backend, arch, api) not in rows.get(kind, {}):
                        continue
                    to_functional[(backend, arch, api, kind)] = ratios.to_functional(frame, backend, arch, api, kind)
                    if api != NATIVE and (backend, arch, NATIVE) in rows[kind]:
                        to_native[(backend, arch, api, kind)] = ratios.between(frame, backend, arch, api, NATIVE, kind)
    capabilities, notes = capabilities_by_backend(frame)
    measured = Analysis(frame, backends, archs, apis, rows, to_functional, to_native, capabilities, notes)
    # an arch whose cells name no API the suite knows (a renamed or foreign cell) has nothing to choose between
    return replace(measured, decisions={arch: _decision(measured, arch) for arch in archs if apis[arch]})
