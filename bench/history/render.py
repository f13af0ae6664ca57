"""The history as text: Markdown tables and JSON for ``bench history show`` and ``changes``."""

from __future__ import annotations

import json

import pandas as pd

from bench.core.escape import markdown, markdown_table
from bench.history.analysis import History
from bench.history.changes import REGRESSION_THRESHOLD, Change


def _table(rows: list[dict]) -> str:
    """A Markdown table whose every cell shows its text literally (names come from results files)."""
    return markdown_table(pd.DataFrame(rows)) if rows else ""


def show_markdown(history: History) -> str:
    if not history.series:
        return "the history holds no runs yet (add results files with: python -m bench history add FILE...)"
    hidden = ("environment", "code_version", "first")  # in --json; the table stays narrow
    return _table([{k: v for k, v in one.summary().items() if k not in hidden} for one in history.series])


def change_row(change: Change) -> dict:
    return {
        "benchmark": change.benchmark,
        "machine": change.machine,
        "backend": change.backend,
        "commits": f"{change.last_before[:12]}..{change.first_after[:12]}",
        "before": f"{change.before:.4f}",
        "after": f"{change.after:.4f}",
        "ratio": f"×{change.ratio:.3f}",
        "p": f"{change.p:.2g}",
        "verdict": "regression" if change.regression else "slower" if change.ratio > 1 else "faster",
    }


def changes_markdown(history: History) -> str:
    changes = history.changes
    if not changes:
        return f"no change point in {len(history.series)} series"
    regressions = history.regressions
    summary = (
        f"{len(regressions)} series whose newest change is a regression "
        f"(≥ {REGRESSION_THRESHOLD:.0%} slower): "
        + ", ".join(f"{markdown(c.benchmark)} on {markdown(c.machine)} at {c.first_after[:12]}"
                    for c in regressions)
        if regressions
        else f"no series whose newest change is a regression (of {len(history.series)} series)"
    )
    return _table([change_row(c) for c in changes]) + "\n\n" + summary


def changes_json(history: History) -> str:
    return json.dumps([change.to_json() for change in history.changes], indent=2, allow_nan=False)


def show_json(history: History) -> str:
    return json.dumps([one.summary() for one in history.series], indent=2, default=str, allow_nan=False)
