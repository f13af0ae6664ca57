"""The answer on one screen: per architecture, a verdict table, a ✓/✗ capability table and one recommendation.

Every cell is read from the report's analysis (:mod:`bench.report.analysis`): the ratios, the recorded
capability verdicts and each architecture's decision; nothing here measures or recomputes.  A speed cell says "≈" unless the paired ratio's CI
excludes 1 *and* the difference reaches the noise floor; then it names the size and the backends.
The CIs themselves, per backend, follow below the first screen (:mod:`bench.report.decision`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.core.capability_names import NESTED_MARKER, REMEDIES, SHORT_NAMES
from bench.core.escape import span
from bench.core.kinds import APIS, TIMED, api_label
from bench.core.ratios import BASE_API, NOISE_FLOOR, Ratio
from bench.report.drawbacks import (
    FIRST_STEP_SLACK,
    MEMORY_SLACK,
    WEIGHT_LEGEND,
    accuracy_of,
    first_step_of,
    headline,
    keras_guide,
    tally,
    verdict_class,
)
from bench.report.text import wrap

SHORT_BACKEND = {"tensorflow": "tf"}
SYMBOL = {2: "✓", 1: "◐", 0: "✗"}
#: what to do where nested custom layers, not the API, cause a ✗ or ◐ (the probes' control shows it)
NESTED_REMEDY = "custom blocks hide their layers, in any API"
REMEDY_WIDTH = 48  # the answer screen's lines stay within 160 characters
COLUMN = {"functional_subclass": "Func. subclass"}  # the capability table's narrower headers
SAME_ACCURACY = 0.0005  # fixed seeds and deterministic ops: the APIs reach the same accuracy to the digit


def _where(backends: list[str]) -> str:
    return ", ".join(SHORT_BACKEND.get(b, b) for b in backends)


def _figure(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.3g}"


def _own(values: list[float | None], unit: str = "") -> str:
    """The Functional row's own figures, one per backend in the legend's order: '651/428/532 ms'."""
    shown = [_figure(v) if v is not None else "–" for v in values]
    return f"{'/'.join(shown)} {unit}".strip() if any(v is not None for v in values) else "–"


def _median_round(analysis, backend, arch, kind) -> float | None:
    row = analysis.cells(kind).get((backend, arch, BASE_API))
    return float(np.median(row.data)) * 1000 if row is not None and len(row.data) else None


def _speed(analysis, backends, arch, api, kind) -> str:
    if api == BASE_API:
        return _own([_median_round(analysis, b, arch, kind) for b in backends], "ms")
    moved: dict[str, list[str]] = {}
    measured = False
    for backend in backends:
        r = analysis.ratio(backend, arch, api, kind)
        measured |= isinstance(r, Ratio)
        if isinstance(r, Ratio) and r.meaningful:
            words = f"{abs(r.ratio - 1):.0%} {'slower' if r.ratio > 1 else 'faster'}"
            moved.setdefault(words, []).append(backend)
    if not measured:
        return "–"
    return "; ".join(f"{words} ({_where(where)})" for words, where in moved.items()) or "≈"


def _relative(analysis, backends, arch, api, index: int, slack: float) -> str:
    """First step (index 0) or peak memory (1) against Functional's, beyond ``slack``; '≈' within it."""
    if api == BASE_API:
        return _own([first_step_of(analysis, b, arch, api)[index] for b in backends], ("s", "MiB")[index])
    moved, measured = [], False
    for backend in backends:
        mine = first_step_of(analysis, backend, arch, api)[index]
        base = first_step_of(analysis, backend, arch, BASE_API)[index]
        if mine is None or not base:
            continue
        measured = True
        if abs(mine / base - 1) > slack:
            moved.append(f"×{mine / base:.2f} ({_where([backend])})")
    return "; ".join(moved) or ("≈" if measured else "–")


def _accuracy(analysis, backends, arch, api) -> str:
    if api == BASE_API:
        scores = [accuracy_of(analysis, b, arch, api) for b in backends]
        return "/".join(f"{s:.3f}" if s is not None else "–" for s in scores) if any(scores) else "–"
    moved, measured = [], False
    for backend in backends:
        mine, base = accuracy_of(analysis, backend, arch, api), accuracy_of(analysis, backend, arch, BASE_API)
        if mine is None or base is None:
            continue
        measured = True
        rows = [analysis.cells("accuracy")[(backend, arch, a)] for a in (api, BASE_API)]
        varies = "" if all(row.extra.get("deterministic") for row in rows) else "~"  # run-to-run variation
        if abs(mine - base) > SAME_ACCURACY:
            moved.append(f"{varies}{mine - base:+.3f} ({_where([backend])})")
    return "; ".join(moved) or ("same" if measured else "–")


def verdict_table(analysis, backends, arch) -> pd.DataFrame:
    """API × (train step, predict, batch 1, first step, peak memory, accuracy), each against Functional."""
    rows = []
    for api in analysis.apis[arch]:
        row = {"API": api_label(api)}
        for kind, label in TIMED:
            row[label] = _speed(analysis, backends, arch, api, kind)
        row["first step"] = _relative(analysis, backends, arch, api, 0, FIRST_STEP_SLACK)
        row["peak memory"] = _relative(analysis, backends, arch, api, 1, MEMORY_SLACK)
        row["accuracy"] = _accuracy(analysis, backends, arch, api)
        rows.append(row)
    return pd.DataFrame(rows)


def _remedy(probe: str, verdicts: list) -> str:
    """What to do about the row's ✗ / ◐: the remedy the probes tried, else the worst verdict's own reason."""
    if verdicts and all(NESTED_MARKER in str(v) for v in verdicts):
        return NESTED_REMEDY  # a control of the same blocks shows it too: the cause is not the API
    if probe in REMEDIES:
        return REMEDIES[probe]
    worst = min(verdicts, key=verdict_class, default="")  # the ✗ and ◐ verdicts: a "no" before a "partly"
    reason = str(worst).split(":", 1)[1].strip() if ":" in str(worst) else ""
    return reason if len(reason) <= REMEDY_WIDTH else reason[: REMEDY_WIDTH - 1].rstrip() + "…"


def _joined(names: list[str]) -> str:
    """'int8, int4, float8 .keras load' for rows that differ only in their first word; else 'a / b'."""
    heads, tails = zip(*(name.partition(" ")[::2] for name in names), strict=True)
    if len(names) > 1 and len(set(tails)) == 1 and tails[0]:
        return f"{', '.join(heads)} {tails[0]}"
    return " / ".join(names)


def capability_table(by_backend: dict[str, dict[str, dict[str, str]]]) -> pd.DataFrame | None:
    """✓ / ◐ / ✗ per capability where the APIs differ on some backend, with what to do about the ✗ or ◐.

    A backend that differs from the others is named once in the cell (``✗ (✓ torch)``); rows alike in every
    cell and in what to do are one row (``int8, int4 .keras load``)."""
    probes = list(dict.fromkeys(p for caps in by_backend.values() for api in caps.values() for p in api))
    apis = [api for api in APIS if any(api in caps for caps in by_backend.values())]
    rows: dict[tuple, list[str]] = {}
    for probe in probes:
        classes = {
            backend: {api: verdict_class(caps.get(api, {}).get(probe)) for api in apis}
            for backend, caps in by_backend.items()
        }
        differ = any(len({c for c in per.values() if c is not None}) > 1 for per in classes.values())
        short = len(apis) == 1 and any(c in (0, 1) for per in classes.values() for c in per.values())
        if not differ and not short:
            continue  # every API alike on every backend: nothing to choose by (one API: what it cannot do)
        cells = []
        probed = {api: {b for b, per in classes.items() if per[api] is not None} for api in apis}
        alike = {frozenset(where) for where in probed.values() if where}
        scope = next(iter(alike)) if len(alike) == 1 and len(next(iter(alike))) < len(classes) else None
        for api in apis:
            seen = {backend: per[api] for backend, per in classes.items() if per[api] is not None}
            if not seen:
                cells.append("–")
                continue
            common = max(set(seen.values()), key=list(seen.values()).count)
            odd = {b: c for b, c in seen.items() if c != common}
            only = f" ({_where(list(seen))} only)" if len(seen) < len(classes) and not odd and not scope else ""
            others = "".join(f" ({SYMBOL[c]} {_where([b])})" for b, c in odd.items())
            cells.append(SYMBOL[common] + only + others)
        verdicts = [caps.get(api, {}).get(probe) for caps in by_backend.values() for api in apis]
        remedy = _remedy(probe, [v for v in verdicts if verdict_class(v) in (0, 1)])
        where = f" ({_where(sorted(scope))})" if scope else ""  # probed on these backends only, for every API
        rows.setdefault((*cells, remedy), []).append(SHORT_NAMES.get(probe, probe) + where)
    if not rows:
        return None
    return pd.DataFrame(
        [
            {"capability": _joined(names), **dict(zip((COLUMN.get(a, api_label(a)) for a in apis), key[:-1],
                                                      strict=True)),
             "where ✗ or ◐: why, what to do": key[-1]}
            for key, names in rows.items()
        ]
    )  # fmt: skip


def recommendation_line(decision) -> tuple[str, str]:
    """(the headline, one line of why) of an architecture's decision: the least weighted drawbacks, each cause
    once; a tie says so and names the shorter API."""
    choice, found, loc = decision.choice, decision.drawbacks, decision.lines_of_code
    capabilities = next(iter(decision.capabilities.values()), {})
    if len(found) == 1:
        why = f"The only API given ({choice.best}); its own figures below"
    else:
        weights = ", ".join(f"{api_label(api)} {choice.scores[api]}" for api in found)
        why = f"Weighted drawbacks: {weights}"
        deciding = [f"{api_label(api)}: {tally(items)}" for api, items in found.items()
                    if api not in choice.apis and items]  # fmt: skip
        if deciding:
            why += ". Against " + "; ".join(deciding)
        if choice.tied:
            lines = ", ".join(f"{api} {loc[api]}" for api in choice.apis if api in loc)
            why += ". A tie" + (f"; lines of code {lines}" if lines else "")
    guided = keras_guide(capabilities)
    if guided is None:
        return headline(choice, api_label), f"{why}."
    guide, reason = guided
    agree = "Keras' guides agree" if guide in choice.apis else f"Keras' guides point to {guide}"
    return headline(choice, api_label), f"{why}; {agree} ({reason})."


def answer_section(analysis, without_data: set[str] = frozenset(), scope: list[str] = ()) -> list[str]:
    """The first screen of a report: what was measured, the legend, then per architecture its verdict,
    tables and reason."""
    backends = analysis.backends
    legend = (
        "Time ÷ the Functional model's, rounds alternating in one run: ≈ under "
        f"{NOISE_FLOOR:.0%} or its 95% interval includes 1; '9% faster (torch)': beyond both, and where. First "
        f"step, peak memory: ≈ within {FIRST_STEP_SLACK:.0%}, {MEMORY_SLACK:.0%}. Functional "
        f"row: its own medians ({'/'.join(_where([b]) for b in backends)}). Accuracy 'same': equal to the digit from "
        "the same weights ('~': no deterministic ops). ✓ works, ◐ partly, ✗ no. Drawback weights: "
        f"{WEIGHT_LEGEND}."
    )
    lines = ["## The answer", "", *wrap(" ".join(scope)), "", *wrap(legend), ""] if scope else \
        ["## The answer", "", *wrap(legend), ""]
    for arch, decision in analysis.decisions.items():
        title, why = recommendation_line(decision)
        lines += [f"### {span(arch)}: {title}", *wrap(why), ""]
        table = verdict_table(analysis, decision.backends, arch)
        if arch in without_data:
            table["accuracy"] = "n/a: no data()"
        lines += [table.to_markdown(index=False, disable_numparse=True), ""]  # '1.000' stays as written
        table = capability_table(decision.capabilities)
        if table is not None:
            lines += [table.to_markdown(index=False), ""]
        elif not decision.capabilities:
            lines += ["No capability probes recorded for this architecture.", ""]
    return lines
