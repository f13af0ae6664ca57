"""The report's first screen: a verdict per cell and a recommendation per architecture, from the figures.

Nothing here is written per API: every word comes from the paired time ratios
(:mod:`bench.core.ratios`), the fresh-process first step and memory, the accuracy runs
and the capability probes, through the rules spelled out in :func:`drawbacks`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bench.core import ratios
from bench.core import results as results_io
from bench.core.capability_names import NO_RESIDUAL, RESIDUAL_TOPOLOGY, SHORT_NAMES
from bench.core.escape import span
from bench.core.kinds import APIS, TIMED
from bench.core.ratios import BASE_API, NOISE_FLOOR, Ratio
from bench.core.results import archs_of
from bench.report.drawbacks import SPEED, Drawback, capability_drawback, choose, describe, headline, speed_drawbacks
from bench.report.text import wrap

# a first step this much longer than the quickest API's counts as a drawback: one fresh process per cell,
# whose first step varies widely from one process to the next, so less would be noise
FIRST_STEP_SLACK = 0.5
MEMORY_SLACK = 0.15  # likewise for peak RSS growth


def keras_guide(capabilities: dict[str, dict[str, str]]) -> tuple[str, str] | None:
    """(API, why) that Keras' guides point to for ``arch``: Sequential for a plain stack of single-input,
    single-output layers, Functional for other topologies (skip connections, several inputs or outputs),
    subclassing for models that need Python control flow in call().  The topology is the Functional
    model's recorded "residual topology" verdict; None where the run recorded none."""
    graphs = [api for api in (BASE_API, "functional_subclass", "sequential") if api in capabilities]
    topology = capabilities[graphs[0]].get(RESIDUAL_TOPOLOGY) if graphs else None
    if topology is None:
        return None  # the run probed no capabilities (or no graph model): the topology is not recorded
    if topology == NO_RESIDUAL:
        return "sequential", "a plain stack of layers"
    if "merge layer" in topology:
        return BASE_API, "branches joined in the graph: not a plain stack"
    return BASE_API, "skip connections: not a plain stack"


def verdict_class(value) -> int | None:
    """2 for a capability that works, 1 for partly / through a workaround, 0 for no; None: not a verdict."""
    text = str(value).lower()
    if text.startswith(("yes", "native")):
        return 2
    if text.startswith(("partly", "via", "only")):
        return 1
    if text.startswith("none"):
        return None  # "none in this architecture": nothing to do, not a "no"
    if text.startswith("no"):
        return 0
    return None


def first_step_of(frame, backend, arch, api) -> tuple[float | None, float | None]:
    row = ratios.cells(frame, "first_step_and_memory").get((backend, arch, api))
    if row is None:
        return None, None
    growth, _ = results_io.rss_growth(row.extra)
    return float(np.median(row.extra["first_step_s"])), (growth / 2**20 if growth is not None else None)


#: first steps per cell needed before a first-step difference can count as a drawback
MIN_FIRST_STEPS = 3


def _settled(frame, backend, arch, api, quickest, index: int) -> bool:
    """Whether ``api``'s first step (index 0) or peak memory (1) over ``quickest``'s counts: each cell probed
    in :data:`MIN_FIRST_STEPS` fresh processes or more, and (first steps) every one of ``api``'s slower than
    every one of ``quickest``'s."""
    rows = ratios.cells(frame, "first_step_and_memory")
    mine, theirs = (list(rows[(backend, arch, a)].extra.get("first_step_s") or []) for a in (api, quickest))
    enough = min(len(mine), len(theirs)) >= MIN_FIRST_STEPS
    return enough and (index == 1 or min(mine) > max(theirs))


def accuracy_of(frame, backend, arch, api) -> float | None:
    row = ratios.cells(frame, "accuracy").get((backend, arch, api))
    return row.extra["test_accuracy"] if row is not None else None


def capability_gaps(capabilities: dict[str, dict[str, str]], api: str) -> list[tuple[str, str]]:
    """(probe, verdict) of the probes in which ``api`` does worse than the best API of the same architecture."""
    gaps = []
    for probe, value in capabilities.get(api, {}).items():
        mine = verdict_class(value)
        others = [verdict_class(c.get(probe)) for c in capabilities.values()]
        best = max((o for o in others if o is not None), default=None)
        if mine is not None and best is not None and mine < best:
            gaps.append((probe, str(value)))
    return gaps


def drawbacks(frame, backends, arch, capabilities_by_backend) -> dict[str, list[Drawback]]:
    """Per API, its drawbacks by kind and cause (:mod:`bench.report.drawbacks`).

    - speed: settled-slower by the noise floor or more than the fastest API of a backend, per kind;
    - first step and peak memory: over the quickest / smallest API by 50% / 15%, only where each cell was
      probed in :data:`MIN_FIRST_STEPS` fresh processes (first steps all apart);
    - capabilities: a probe where it does worse than another API (once per probe, naming the backends
      where it differs);
    - accuracy: more than 0.01 below the best API on the same backend (deterministic runs only).
    """
    apis = ratios.apis_in(frame, arch)
    found: dict[str, list[Drawback]] = {api: [] for api in apis}
    for backend in backends:
        for api, items in speed_drawbacks(frame, backend, arch, apis).items():
            found[api] += items
        firsts = {api: first_step_of(frame, backend, arch, api) for api in apis}
        for index, (label, slack) in enumerate(
            (("first step", FIRST_STEP_SLACK), ("peak RSS", MEMORY_SLACK))
        ):
            values = {api: v[index] for api, v in firsts.items() if v[index] is not None}
            if len(values) < 2:
                continue
            quickest = min(values, key=values.get)
            least = values[quickest]
            for api, value in values.items():
                if least > 0 and value > least * (1 + slack):
                    if not _settled(frame, backend, arch, api, quickest, index):
                        continue  # one fresh process each: a single first step or RSS is not settled
                    text = f"{label} ×{value / least:.2f} of the least on {backend}"
                    found[api].append(Drawback(SPEED, f"{label} on {backend}", text))
        scores = {api: accuracy_of(frame, backend, arch, api) for api in apis}
        scores = {api: s for api, s in scores.items() if s is not None}
        accuracy_rows = ratios.cells(frame, "accuracy")
        if not all(accuracy_rows[(backend, arch, api)].extra.get("deterministic") for api in scores):
            scores = {}  # without deterministic ops, accuracy differences are run-to-run variation
        for api, score in scores.items():
            if max(scores.values()) - score > 0.01:
                text = f"test accuracy {score:.3f} vs {max(scores.values()):.3f} on {backend}"
                found[api].append(Drawback(SPEED, f"accuracy on {backend}", text))
    lacking: dict[str, dict[str, tuple[str, list[str]]]] = {api: {} for api in apis}
    for backend in backends:
        capabilities = capabilities_by_backend.get(backend, {})
        for api in apis:
            for probe, verdict in capability_gaps(capabilities, api):
                lacking[api].setdefault(probe, (verdict, []))[1].append(backend)
    for api, gaps in lacking.items():
        every = len(backends)
        found[api] += [
            capability_drawback(probe, verdict, "" if len(where) == every else f" on {', '.join(where)}")
            for probe, (verdict, where) in gaps.items()
        ]
    return found


def lines_of_code(by_backend: dict[str, dict[str, dict]]) -> dict[str, int]:
    """API -> lines of code, as the capability probes of any backend recorded them."""
    return {
        api: probes["lines of code"]
        for caps in by_backend.values()
        for api, probes in caps.items()
        if isinstance(probes.get("lines of code"), int)
    }


def recommendation(
    arch, found: dict[str, list[Drawback]], lines_of_code: dict[str, int], capabilities: dict[str, dict[str, str]]
) -> str:
    """The API of least weighted drawbacks (:func:`bench.report.drawbacks.choose`), with every drawback."""
    choice = choose(found, lines_of_code)
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


def summary_table(frame, backend, arch, capabilities: dict[str, dict[str, str]]) -> pd.DataFrame:
    """One row per API: time ratios to Functional with CIs, first step, memory, accuracy, lines of code."""
    rows = []
    apis = ratios.apis_in(frame, arch)
    firsts = {api: first_step_of(frame, backend, arch, api) for api in apis}
    base_first, base_rss = firsts.get(BASE_API, (None, None))
    for api in apis:
        row = {"cell": f"{arch}-{api}"}
        for kind, label in TIMED:
            r = ratios.to_functional(frame, backend, arch, api, kind)
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
        probe = ratios.cells(frame, "first_step_and_memory").get((backend, arch, api))
        row["peak RSS"] = (
            f"{rss:,.0f} MiB" + (f" (×{rss / base_rss:.2f})" if base_rss and api != BASE_API else "")
            if rss is not None
            else f"n/a: {results_io.rss_growth(probe.extra)[1]}"
            if probe is not None
            else "n/a: not measured"
        )
        accuracy = accuracy_of(frame, backend, arch, api)
        row["test accuracy"] = (
            f"{accuracy:.3f}"
            if accuracy is not None
            else "n/a: Functional's only (parity: same training)"
            if accuracy_of(frame, backend, arch, BASE_API) is not None
            else "n/a: not measured"
        )
        lines = capabilities.get(api, {}).get("lines of code")
        row["lines"] = str(lines) if lines is not None else "n/a"
        rows.append(row)
    return pd.DataFrame(rows)


def precision_lines(frame, backends) -> list[str]:
    """How precise this run's train-step ratios are, per backend, and what to do when that is not enough."""
    widths = {
        backend: width
        for backend in backends
        if (width := ratios.median_half_width(frame, backend, "train_throughput")) is not None
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


def compilation_lines(frame, backends) -> list[str]:
    """Which compilation was in effect in the timed and trained cells, per backend: ``model.jit_compile``
    after the first step, as each cell recorded it (the profile's "auto" resolved by Keras)."""
    parts = []
    for backend in backends:
        kinds = [kind for kind, _ in TIMED] + ["accuracy"]
        rows = frame[(frame["backend"] == backend) & frame["kind"].isin(kinds)]
        seen = [row.extra.get("jit") for row in rows.itertuples() if isinstance(row.extra, dict)]
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


def summary_section(
    frame,
    capabilities_by_backend: dict[str, dict[str, dict[str, dict[str, str]]]],
    pooled_files: dict[str, list[str]] | None = None,
) -> list[str]:
    """Below the answer: how the runs were pooled, a table per backend with every ratio's CI, then each
    recommendation's reasons."""
    backends = sorted(frame["backend"].dropna().unique())
    lines = [
        "## Per backend, with confidence intervals",
        "",
        *wrap(
            "Time ratios are the cell's time per round ÷ the Functional model's, 95% CI in brackets; "
            "'indistinguishable within ±x%': this run cannot tell them apart, x is how far the CI reaches; "
            f"a difference under {NOISE_FLOOR:.0%} (the noise floor) is marked as such. "
            f"The Functional row is {ratios.aa_basis(frame)} (an A/A comparison: the same model against itself), "
            "what the measurement itself leaves."
        ),
        "",
        *pooling_lines(pooled_files or {}),
        *precision_lines(frame, backends),
        *compilation_lines(frame, backends),
    ]
    for backend in backends:
        for arch in archs_of(frame):
            if not ((frame["backend"] == backend) & (frame["arch"] == arch)).any():
                continue
            capabilities = capabilities_by_backend.get(backend, {}).get(arch, {})
            lines += [
                f"**{backend}, {span(arch)}**",
                "",
                summary_table(frame, backend, arch, capabilities).to_markdown(index=False),
                "",
            ]
    lines += ["### Every drawback behind the recommendations", ""]
    for arch in archs_of(frame):
        present = [b for b in backends if ((frame["backend"] == b) & (frame["arch"] == arch)).any()]
        if not present:
            continue
        by_backend = {b: capabilities_by_backend.get(b, {}).get(arch, {}) for b in present}
        found = drawbacks(frame, present, arch, by_backend)
        recorded = next((caps for caps in by_backend.values() if caps), {})
        lines += [f"- {recommendation(arch, found, lines_of_code(by_backend), recorded)}", ""]
    return lines
