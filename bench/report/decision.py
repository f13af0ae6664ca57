"""Below the answer: per backend, every ratio with its 95% CI; per architecture, every drawback behind the
recommendation.

Each figure is read from the report's analysis (:mod:`bench.report.analysis`); the rules that turn figures
into drawbacks and a choice are in :mod:`bench.report.drawbacks`.
"""

from __future__ import annotations

import pandas as pd

from bench.core import ratios
from bench.core import results as results_io
from bench.core.escape import span
from bench.core.kinds import TIMED
from bench.core.ratios import BASE_API, NOISE_FLOOR, Ratio
from bench.report.drawbacks import accuracy_of, describe, first_step_of, headline, keras_guide
from bench.report.text import wrap


def recommendation(arch: str, decision) -> str:
    """The API of least weighted drawbacks (:func:`bench.report.drawbacks.choose`), with every drawback."""
    choice, found, lines_of_code = decision.choice, decision.drawbacks, decision.lines_of_code
    capabilities = next(iter(decision.capabilities.values()), {})
    weights = ", ".join(f"{api} {choice.scores[api]}" for api in found)
    text = f"**{span(arch)}: {headline(choice, str)}** — weighted drawbacks {weights}"
    if lines_of_code:
        text += "; lines of code " + ", ".join(f"{api} {lines_of_code[api]}" for api in found if api in lines_of_code)
    listed = [f"{api}: {describe(items)}" if items else f"{api}: none" for api, items in found.items()]
    text += ". " + " | ".join(listed) + "."
    guided = keras_guide(capabilities)
    if guided is None:
        return text + " (No capability probes recorded: Keras' guides not compared.)"
    guide, why = guided
    agreement = "the measurements agree" if guide in choice.apis else f"the measurements point to {choice.best} instead"
    return f"{text} Keras' guides point to {guide} here ({why}); {agreement}."


def _speed_cell(r) -> str:
    if not isinstance(r, Ratio):
        return f"n/a: {r}"
    return f"{r} {r.words()}"


def summary_table(analysis, backend, arch) -> pd.DataFrame:
    """One row per API: time ratios to Functional with CIs, first step, memory, accuracy, lines of code."""
    rows = []
    apis = analysis.apis[arch]
    capabilities = analysis.capabilities.get(backend, {}).get(arch, {})
    firsts = {api: first_step_of(analysis, backend, arch, api) for api in apis}
    base_first, base_rss = firsts.get(BASE_API, (None, None))
    for api in apis:
        row = {"cell": f"{arch}-{api}"}
        for kind, label in TIMED:
            r = analysis.ratio(backend, arch, api, kind)
            cell = _speed_cell(r)
            row[f"{label} time ÷ Functional"] = (
                f"A/A {cell}" if api == BASE_API and isinstance(r, Ratio) else cell
            )
        first, rss = firsts[api]
        row["first step"] = (
            f"{first:.1f} s" + (f" (×{first / base_first:.2f})" if base_first and api != BASE_API else "")
            if first is not None
            else "n/a: not measured"
        )
        probe = analysis.cells("first_step_and_memory").get((backend, arch, api))
        row["peak RSS"] = (
            f"{rss:,.0f} MiB" + (f" (×{rss / base_rss:.2f})" if base_rss and api != BASE_API else "")
            if rss is not None
            else f"n/a: {results_io.rss_growth(probe.extra)[1]}"
            if probe is not None
            else "n/a: not measured"
        )
        accuracy = accuracy_of(analysis, backend, arch, api)
        row["test accuracy"] = (
            f"{accuracy:.3f}"
            if accuracy is not None
            else "n/a: Functional's only (parity: same training)"
            if accuracy_of(analysis, backend, arch, BASE_API) is not None
            else "n/a: not measured"
        )
        lines = capabilities.get(api, {}).get("lines of code")
        row["lines"] = str(lines) if lines is not None else "n/a"
        rows.append(row)
    return pd.DataFrame(rows)


def precision_lines(analysis, backends) -> list[str]:
    """How precise this run's train-step ratios are, per backend, and what to do when that is not enough."""
    widths = {
        backend: width
        for backend in backends
        if (width := analysis.median_half_width(backend, "train_throughput")) is not None
    }
    if not widths:
        return []
    target = ratios.TARGET_HALF_WIDTH
    loose = [backend for backend, width in widths.items() if width > target]
    text = "Precision: median CI half-width of the train-step ratios " + ", ".join(
        f"±{width:.1%} ({backend})" for backend, width in widths.items()
    )
    if loose:
        text += (
            f"; above ±{target:.0%} on {', '.join(loose)}: differences of a few percent there need another "
            "run, pooled with what is here (`python -m bench report first.json second.json ...`)."
        )
    else:
        text += f", within ±{target:.0%}."
    return [*wrap(text), ""]


#: what ``model.jit_compile`` in effect means on each backend
COMPILED = {"tensorflow": ("XLA", "tf.function without XLA"), "jax": ("jax.jit", "eager"),
            "torch": ("torch.compile", "eager")}  # fmt: skip


def compilation_lines(analysis, backends) -> list[str]:
    """Which compilation was in effect in the timed and trained cells, per backend: ``model.jit_compile``
    after the first step, as each cell recorded it (the profile's "auto" resolved by Keras)."""
    parts = []
    for backend in backends:
        kinds = [kind for kind, _ in TIMED] + ["accuracy"]
        seen = [row.extra.get("jit") for kind in kinds for (b, _, _), row in analysis.cells(kind).items()
                if b == backend and isinstance(row.extra, dict)]  # fmt: skip
        if not seen:
            continue
        yes, no = COMPILED.get(backend, ("jit", "no jit"))
        counts = {yes: sum(v is True for v in seen), no: sum(v is False for v in seen),
                  "not recorded": sum(v is None for v in seen)}  # fmt: skip
        said = [f"{how} in {'all' if count == len(seen) else count} of {len(seen)} cells"
                for how, count in counts.items() if count]  # fmt: skip
        parts.append(f"{', '.join(said)} ({backend})")
    if not parts:
        return []
    text = "Compilation in effect (`model.jit_compile` after the first step): " + "; ".join(parts) + "."
    return [*wrap(text), ""]


def pooling_lines(pooled_files: dict[str, list[str]]) -> list[str]:
    """Which runs of one backend the ratios pool, and how."""
    lines = []
    for backend, files in pooled_files.items():
        text = (
            f"Repeated runs pooled ({backend}): {' + '.join(files)}. Each round is divided by the partner "
            "rounds of its own run; ratios and CIs are over the rounds of all of them."
        )
        lines += [*wrap(text), ""]
    return lines


def summary_section(analysis, pooled_files: dict[str, list[str]] | None = None) -> list[str]:
    """Below the answer: how the runs were pooled, a table per backend with every ratio's CI, then each
    recommendation's reasons."""
    lines = [
        "## Per backend, with confidence intervals",
        "",
        *wrap(
            "Time ratios are the cell's time per round ÷ the Functional model's, 95% CI in brackets; "
            "'indistinguishable within ±x%': this run cannot tell them apart, x is how far the CI reaches; "
            f"a difference under {NOISE_FLOOR:.0%} (the noise floor) is marked as such. "
            f"The Functional row is {ratios.aa_basis(analysis.frame)} (an A/A comparison: the same model against "
            "itself), what the measurement itself leaves."
        ),
        "",
        *pooling_lines(pooled_files or {}),
        *precision_lines(analysis, analysis.backends),
        *compilation_lines(analysis, analysis.backends),
    ]
    for backend in analysis.backends:
        for arch in analysis.archs:
            if analysis.measured(backend, arch):
                lines += [f"**{backend}, {span(arch)}**", "",
                          summary_table(analysis, backend, arch).to_markdown(index=False), ""]  # fmt: skip
    lines += ["### Every drawback behind the recommendations", ""]
    for arch, decision in analysis.decisions.items():
        if decision.backends:
            lines += [f"- {recommendation(arch, decision)}", ""]
    return lines
