"""The report's figures: a forest plot of time ratios to Functional, and accuracy per epoch in facets.

Each reads the report's analysis (:mod:`bench.report.analysis`)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
matplotlib.rcParams["text.parse_math"] = False  # names from results files are text: a "$" is a dollar sign
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from bench.core.escape import plot_text, span  # noqa: E402
from bench.core.kinds import APIS, NATIVE, TIMED  # noqa: E402
from bench.core.ratios import NOISE_FLOOR, Ratio  # noqa: E402

API_STYLES = {  # told apart by marker and line style, not only colour
    "sequential": {"marker": "s", "linestyle": "--", "color": "C0"},
    "functional": {"marker": "o", "linestyle": "-", "color": "C1"},
    "subclassing": {"marker": "^", "linestyle": ":", "color": "C2"},
    "functional_subclass": {"marker": "v", "linestyle": (0, (5, 1, 1, 1)), "color": "C4"},
    "native": {"marker": "D", "linestyle": "-.", "color": "C3"},
}


def forest_plot(analysis, path: Path, apis: tuple[str, ...] = APIS, title: str = "") -> bool:
    """Time ÷ Functional with its 95% CI, one panel per benchmark kind, a row per backend × cell of ``apis``
    (the API comparison; the native models apart, in their own figure, so they do not stretch its axis).

    The shaded band is the no-difference band (±NOISE_FLOOR); a dot inside it with a CI crossing 1 is "the
    same" in the report's words.  False, and no file, where no cell of ``apis`` was timed.
    """
    labels = [
        (backend, arch, api)
        for backend in analysis.backends
        for arch in analysis.archs
        for api in apis
        if any((backend, arch, api) in analysis.cells(kind) for kind, _ in TIMED)
    ]
    if not labels:
        return False
    fig, axes = plt.subplots(
        1, len(TIMED), figsize=(4 * len(TIMED), 0.32 * len(labels) + 1.9), sharey=True
    )
    for ax, (kind, name) in zip(axes, TIMED, strict=True):
        ax.axvspan(1 - NOISE_FLOOR, 1 + NOISE_FLOOR, color="0.9", zorder=0)
        ax.axvline(1, color="0.5", linewidth=0.8)
        for y, (backend, arch, api) in enumerate(labels):
            r = analysis.ratio(backend, arch, api, kind)
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
        ax.set_title(f"{name}: time ÷ Functional")
        ax.set_xlabel(f"← faster · slower →  (95% CI; band ±{NOISE_FLOOR:.0%})")
    axes[0].set_yticks(range(len(labels)), [plot_text(f"{b} {a}") for b, a, _ in labels], fontsize=7)
    axes[0].invert_yaxis()
    shown = list(dict.fromkeys(api for _, _, api in labels))
    handles = [Line2D([], [], marker=API_STYLES.get(api, API_STYLES["native"])["marker"], linestyle="none",
                      color=API_STYLES.get(api, API_STYLES["native"])["color"], label=plot_text(api))
               for api in shown]  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    if title:
        fig.suptitle(plot_text(title), fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def curves_to_show(analysis) -> bool:
    """Whether any run trained more than one epoch: only then is there an accuracy curve to plot (one
    figure per API reads better in the answer's table)."""
    return any(len(row.extra.get("epoch_log", [])) > 1 for row in analysis.cells("accuracy").values())


def coinciding_curves(analysis) -> list[str]:
    """Facets where every API's test-accuracy curve is identical (drawn on top of each other)."""
    notes = []
    accuracy = analysis.cells("accuracy")
    for backend in analysis.backends:
        for arch in analysis.archs:
            curves = {
                api: tuple(
                    e["test_accuracy"] for e in accuracy[(backend, arch, api)].extra.get("epoch_log", [])
                )
                for api in APIS
                if (backend, arch, api) in accuracy
            }
            if len(curves) > 1 and len(set(curves.values())) == 1:
                notes.append(f"{backend} {span(arch)}: the {len(curves)} APIs' curves coincide exactly")
    return notes


BACKEND_MARKERS = {"tensorflow": "o", "jax": "s", "torch": "^"}


def accuracy_plot(analysis, path: Path) -> None:
    """Test accuracy per API, one panel per architecture: a point per backend (and per run), so that the
    spread between APIs reads against the spread between backends.  Where the runs trained several epochs,
    one curve per API and backend over the epochs instead."""
    accuracy = analysis.cells("accuracy")
    archs = sorted({arch for _, arch, _ in accuracy}) or analysis.archs
    apis = [api for api in (*APIS, NATIVE) if any(key[2] == api for key in accuracy)]
    epochs = max((len(row.extra.get("epoch_log", [])) for row in accuracy.values()), default=0)
    fig, axes = plt.subplots(1, max(1, len(archs)), figsize=(4.6 * max(1, len(archs)), 3.4), squeeze=False)
    for ax, arch in zip(axes.flat, archs, strict=False):
        backends = sorted({b for b, a, _ in accuracy if a == arch})
        for b_index, backend in enumerate(backends):
            marker = BACKEND_MARKERS.get(backend, "D")
            for a_index, api in enumerate(apis):
                row = accuracy.get((backend, arch, api))
                if row is None:
                    continue
                colour = API_STYLES.get(api, API_STYLES[NATIVE])["color"]
                label = plot_text(f"{api} ({backend})")
                if epochs > 1:
                    log = row.extra.get("epoch_log", [])
                    ax.plot([e["epoch"] for e in log], [e["test_accuracy"] for e in log], marker=marker,
                            color=colour, linestyle=API_STYLES.get(api, API_STYLES[NATIVE])["linestyle"],
                            label=label)  # fmt: skip
                    continue
                offset = (b_index - (len(backends) - 1) / 2) * 0.12  # backends side by side within an API
                ax.plot(a_index + offset, row.extra["test_accuracy"], marker=marker, color=colour,
                        linestyle="none", markersize=7)  # fmt: skip
        if epochs > 1:
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.legend(fontsize=6)
        else:
            ax.set_xticks(range(len(apis)), [plot_text(api) for api in apis], fontsize=8)
            ax.set_xlim(-0.5, len(apis) - 0.5)
            handles = [Line2D([], [], marker=BACKEND_MARKERS.get(b, "D"), color="0.4", linestyle="none",
                              label=plot_text(b)) for b in backends]  # fmt: skip
            ax.legend(handles=handles, title="backend", fontsize=7, title_fontsize=7)
        low, high = ax.get_ylim()
        if high - low < 0.02:  # identical accuracies: show them on a readable scale, not as noise
            middle = (high + low) / 2
            ax.set_ylim(middle - 0.01, middle + 0.01)
        ax.set_title(plot_text(arch), fontsize=9)
        ax.set_ylabel("test accuracy")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
