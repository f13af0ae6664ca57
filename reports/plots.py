"""The report's figures: a forest plot of time ratios to Functional, and accuracy per epoch in facets."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bench.core import ratios  # noqa: E402
from bench.core.kinds import APIS, TIMED
from bench.core.ratios import BASE_API, NOISE_FLOOR, Ratio  # noqa: E402
from bench.core.results import archs_of

API_STYLES = {  # told apart by marker and line style, not only colour
    "sequential": {"marker": "s", "linestyle": "--", "color": "C0"},
    "functional": {"marker": "o", "linestyle": "-", "color": "C1"},
    "subclassing": {"marker": "^", "linestyle": ":", "color": "C2"},
    "native": {"marker": "D", "linestyle": "-.", "color": "C3"},
}


def forest_plot(frame: pd.DataFrame, path: Path) -> None:
    """Time ÷ Functional with its 95% CI, one panel per benchmark kind, a row per backend × cell.

    The shaded band is the no-difference band (±NOISE_FLOOR); a dot inside it with a CI
    crossing 1 is "the same" in the report's words.
    """
    backends = sorted(frame["backend"].dropna().unique())
    labels = [
        (backend, arch, api)
        for backend in backends
        for arch in archs_of(frame)
        for api in (*APIS, "native")
        if any((backend, arch, api) in ratios.cells(frame, kind) for kind, _ in TIMED)
    ]
    fig, axes = plt.subplots(
        1, len(TIMED), figsize=(4 * len(TIMED), 0.32 * len(labels) + 1.4), sharey=True
    )
    for ax, (kind, title) in zip(axes, TIMED, strict=True):
        ax.axvspan(1 - NOISE_FLOOR, 1 + NOISE_FLOOR, color="0.9", zorder=0)
        ax.axvline(1, color="0.5", linewidth=0.8)
        for y, (backend, arch, api) in enumerate(labels):
            r = ratios.to_functional(frame, backend, arch, api, kind)
            if not isinstance(r, Ratio):
                continue
            style = API_STYLES.get(api, API_STYLES["native"])
            ax.errorbar(
                r.ratio,
                y,
                xerr=[[r.ratio - r.low], [r.high - r.ratio]],
                fmt=style["marker"],
                color=style["color"],
                capsize=3,
            )
        ax.set_title(f"{title}: time ÷ Functional")
        ax.set_xlabel(f"ratio, 95% CI (band: ±{NOISE_FLOOR:.0%})")
    axes[0].set_yticks(range(len(labels)), [f"{b} {a}-{p}" for b, a, p in labels], fontsize=7)
    axes[0].invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def coinciding_curves(frame: pd.DataFrame) -> list[str]:
    """Facets where every API's test-accuracy curve is identical (drawn on top of each other)."""
    notes = []
    accuracy = ratios.cells(frame, "accuracy")
    for backend in sorted(frame["backend"].dropna().unique()):
        for arch in archs_of(frame):
            curves = {
                api: tuple(
                    e["test_accuracy"] for e in accuracy[(backend, arch, api)].extra.get("epoch_log", [])
                )
                for api in APIS
                if (backend, arch, api) in accuracy
            }
            if len(curves) > 1 and len(set(curves.values())) == 1:
                notes.append(f"{backend} `{arch}`: the {len(curves)} APIs' curves coincide exactly")
    return notes


def accuracy_plot(frame: pd.DataFrame, path: Path) -> None:
    """Test accuracy per epoch, one facet per architecture × backend, APIs by marker and line style."""
    accuracy = ratios.cells(frame, "accuracy")
    facets = sorted({(backend, arch) for backend, arch, _ in accuracy})
    columns = max(1, len(archs_of(frame)))
    rows = max(1, -(-len(facets) // columns))
    fig, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for ax, (backend, arch) in zip(axes.flat, facets, strict=False):
        ax.set_visible(True)
        for api in (*APIS, "native"):
            row = accuracy.get((backend, arch, api))
            if row is None:
                continue
            log = row.extra.get("epoch_log", [])
            style = API_STYLES[api]
            ax.plot(
                [e["epoch"] for e in log],
                [e["test_accuracy"] for e in log],
                label=api,
                markersize=7 if api == BASE_API else 5,
                fillstyle="none" if api != BASE_API else "full",
                **style,
            )
        ax.set_title(f"{arch} on {backend}", fontsize=9)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel("test accuracy")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
