"""``bench history publish``: a static page, ``index.html``: every series' trend plot, and the regressions.

No script and no server: the folder can be served as it is, or uploaded as a CI artifact.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, timezone
from pathlib import Path

from bench.history.analysis import History
from bench.history.changes import REGRESSION_THRESHOLD
from bench.history.plots import trend_plot
from bench.history.render import change_row
from bench.history.series import series_label

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; } h3 { font-size: 0.95rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f3f3f3; } .regression { color: #c0392b; font-weight: 600; } .faster { color: #27ae60; }
.series { border-top: 1px solid #ddd; padding-top: 0.5rem; } img { max-width: 100%; }
nav a { margin-right: 0.8rem; } .muted { color: #777; font-size: 0.85rem; }
"""


def _cells(row: dict, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{html.escape(str(v))}</{tag}>" for v in row.values()) + "</tr>"


def _table(rows: list[dict], css_of=None) -> str:
    if not rows:
        return ""
    body = []
    for row in rows:
        css = css_of(row) if css_of else ""
        body.append(_cells(row).replace("<tr>", f'<tr class="{css}">', 1) if css else _cells(row))
    return (
        "<table>" + _cells(dict(zip(rows[0], rows[0], strict=True)), header=True) + "".join(body) + "</table>"
    )


def _verdict_class(row: dict) -> str:
    return {"regression": "regression", "faster": "faster"}.get(row.get("verdict"), "")


def publish(history: History, out: Path, store: str) -> Path:
    """Write ``out/index.html``, a PNG per series under ``out/plots`` and ``out/changes.json``."""
    out.mkdir(parents=True, exist_ok=True)
    plots = out / "plots"
    regressions = history.regressions
    sections, index = [], []
    for number, one in enumerate(history.series):
        anchor = f"s{number}"
        image = trend_plot(one.key, one.rows, one.changes, one.restarts, plots)
        summary = one.summary()
        index.append({"benchmark": one.key["benchmark"], "machine": one.key["machine"],
                      "backend": one.key["backend"], "profile": one.key["profile"],
                      "runs": summary["runs"], "commits": summary["commits"],
                      "latest": summary["latest normalized"], "changes": summary["changes"],
                      "anchor": anchor})  # fmt: skip
        changes = (
            _table([change_row(c) for c in one.changes], _verdict_class)
            or '<p class="muted">no change point</p>'
        )
        sections.append(
            f'<div class="series" id="{anchor}"><h3>{html.escape(series_label(one.key))}</h3>'
            f'<img src="plots/{html.escape(image.name)}" alt="trend of {html.escape(one.key["benchmark"])}">'
            f"{changes}</div>"
        )
    rows = "".join(
        f'<tr><td><a href="#{row["anchor"]}">{html.escape(row["benchmark"])}</a></td>'
        + "".join(f"<td>{html.escape(str(row[k]))}</td>" for k in ("machine", "backend", "profile", "runs",
                                                                     "commits", "latest", "changes"))
        + "</tr>"
        for row in index
    )  # fmt: skip
    header = "".join(f"<th>{name}</th>" for name in ("benchmark", "machine", "backend", "profile", "runs",
                                                      "commits", "latest normalized", "changes"))  # fmt: skip
    regression_part = (
        _table([change_row(c) for c in regressions], _verdict_class)
        if regressions
        else "<p>none: no series' newest change is a regression</p>"
    )
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>keras-api-bench history</title>
<style>{_STYLE}</style></head><body>
<h1>keras-api-bench: benchmark history</h1>
<p class="muted">{len(history.series)} series from {html.escape(store)}, generated {generated}.
Each point is one run's median normalized time (CPU time over the native reference, lower is faster) with its
95% CI, in the order of the commits' times; orange lines are each segment's level, dashed lines change
points (red slower, green faster), dotted ones annotated shifts.</p>
<nav><a href="#regressions">regressions</a><a href="#index">benchmarks</a>
<a href="changes.json">changes.json</a></nav>
<h2 id="regressions">Regressions (the newest change of a series, ≥ {REGRESSION_THRESHOLD:.0%} slower)</h2>
{regression_part}
<h2 id="index">Benchmarks</h2>
<table><tr>{header}</tr>{rows}</table>
<h2>Trends</h2>
{"".join(sections)}
</body></html>
"""
    (out / "changes.json").write_text(
        json.dumps([c.to_json() for c in history.changes], indent=2), encoding="utf-8"
    )
    target = out / "index.html"
    target.write_text(page, encoding="utf-8")
    return target
