"""Trend plots: one PNG per series, its runs in commit order, each segment's level and its change points."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # names from results files are text: a "$" is a dollar sign
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from bench.core.escape import file_name as escaped_file_name  # noqa: E402
from bench.core.escape import plot_text  # noqa: E402
from bench.history.changes import Change  # noqa: E402
from bench.history.series import series_label  # noqa: E402


def file_name(key: dict) -> str:
    """A PNG name unique to the series, whatever its names hold (bench.core.escape.file_name)."""
    parts = [key[k] for k in ("benchmark", "machine", "backend", "profile", "environment", "code_version")]
    return escaped_file_name(*parts, suffix=".png")


def trend_plot(key: dict, rows: pd.DataFrame, changes: list[Change], restarts: set[str], out: Path) -> Path:
    """Normalized time per run (with its 95% CI) against the commits, each segment's median level (orange);
    change points red (slower) or green."""
    commits = list(dict.fromkeys(rows["commit_id"]))
    position = {commit: i for i, commit in enumerate(commits)}
    x = rows["commit_id"].map(position).to_numpy(float)
    y = rows["normalized"].to_numpy(float)
    # fixed margins (room for a two-line title and the slanted commit ids) rather than a layout pass per plot:
    # a page draws one plot per series
    figure, axes = plt.subplots(figsize=(8, 3.2), dpi=100)
    figure.subplots_adjust(left=0.12, right=0.98, top=0.84, bottom=0.2)
    low, high = rows["normalized_low"].to_numpy(float), rows["normalized_high"].to_numpy(float)
    if np.isfinite(low).all() and np.isfinite(high).all():
        axes.errorbar(x, y, yerr=[y - low, high - y], fmt="o", ms=3, color="#1f4e79", ecolor="#9db4cc", lw=1)
    else:
        axes.plot(x, y, "o", ms=3, color="#1f4e79")
    cuts = [position[change.first_after] for change in changes]
    for start, end in zip([0, *cuts], [*cuts, len(commits)], strict=True):  # each segment's level
        inside = (x >= start) & (x < end)
        if inside.any():
            axes.hlines(np.median(y[inside]), start - 0.4, end - 0.6, color="#e67e22", lw=1.5, zorder=3)
    for change in changes:
        at = position[change.first_after] - 0.5
        colour = "#c0392b" if change.ratio > 1 else "#27ae60"
        axes.axvline(at, color=colour, ls="--", lw=1.2)
        axes.annotate(f"×{change.ratio:.3f}", (at, 1), xycoords=("data", "axes fraction"), xytext=(3, -12),
                      textcoords="offset points", color=colour, fontsize=8)  # fmt: skip
    for commit in restarts & set(commits):
        axes.axvline(position[commit] - 0.5, color="#7f8c8d", ls=":", lw=1.2)
    ticks = list(range(0, len(commits), max(1, len(commits) // 10)))
    axes.set_xticks(ticks, [commits[i][:7] for i in ticks], rotation=30, fontsize=7)
    axes.set_ylabel("normalized time", fontsize=8)
    axes.set_title(plot_text(series_label(key)), fontsize=8, wrap=True)
    axes.grid(alpha=0.3)
    path = out / file_name(key) if out.suffix != ".png" else out
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
