"""Build the Markdown API-choice report from results files: summary first, then the details.

One or more results files (e.g. one per Keras backend) go in; REPORT.md and its
PNG plots come out.  The files are analysed once (:mod:`bench.report.analysis`), and every
part of the report renders that analysis: the answer on one screen (:mod:`bench.report.answer`),
the ratios with their CIs and every drawback (:mod:`bench.report.decision`), then per backend
and architecture the figures, Keras against native code, the capability probes, the plots
(:mod:`bench.report.plots`) and the environment.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from bench.core import results as results_io
from bench.core.escape import markdown_strings, span
from bench.core.kinds import APIS, NATIVE, TIMED
from bench.core.ratios import BASE_API, Ratio
from bench.core.stats import median_ci
from bench.report import findings, plots
from bench.report.analysis import Analysis, analyse
from bench.report.answer import answer_section
from bench.report.decision import summary_section
from bench.report.text import wrap


def _na(reason: str) -> str:
    return f"n/a: {reason}"


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _throughput(row) -> tuple[float, float, float] | None:
    """(images/s, CI low, CI high) from per-round times and the batch size."""
    if row is None or not row.data:
        return None
    batch = row.extra["batch"]
    return median_ci(row.data, transform=lambda seconds: batch / seconds)


def _environment_values(results: dict) -> dict[str, str]:
    """Where, on what and how one results file was measured, as setting → text."""
    suite = results["machine_info"]["suite"]
    versions = {k: v for k, v in suite.get("versions", {}).items() if v}
    commit = suite.get("commit") or (results.get("commit_info") or {}).get("id") or "unknown"
    settings = suite.get("settings", {})
    overridden = settings.get("overridden") or []
    partner = settings.get("partner", "reference")
    return {
        "backend": suite["backend"],
        "device": suite["device"]
        + ("" if suite.get("device_kind") == "gpu" else " (fallback: no GPU seen by the backend)"),
        "CPU": f"{suite.get('cpu_model')} ({suite.get('cpu_threads')} threads)",
        "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
        "dataset": suite["dataset"]
        + (" (fallback: full MNIST could not be downloaded)" if suite.get("dataset_fallback") else "")
        + (" (offline data)" if suite["dataset"] != "mnist" else ""),
        "profile": suite["profile"],
        "kernel threads": str(settings.get("threads") or "framework default"),
        "timing basis": "process CPU time, each round ÷ the "
        + ("Functional model's rounds around it" if partner == "functional" else "native reference rounds"),
        "switches": f"jit={settings.get('jit')}, mixed precision={settings.get('mixed_precision')}, "
        f"deterministic ops={settings.get('deterministic')}",
        "overrides": ", ".join(f"{k}={settings.get(k)}" for k in overridden) or "none",
        "seed": str(suite.get("seed")),
        "commit": commit
        + (
            f" (uncommitted changes in {', '.join(suite['changed_paths'])})"
            if suite.get("changed_paths")
            else ""
        )
        + (f" ({suite['commit_note']})" if suite.get("commit_note") else ""),
        "measured": results.get("datetime", "unknown"),
    }


def environment_section(all_results: list[dict]) -> list[str]:
    """One row per setting: a value all files share once, otherwise each file's value."""
    per_file = {Path(r["_path"]).name: _environment_values(r) for r in all_results}
    rows = []
    for setting in next(iter(per_file.values())):
        values = {name: values.get(setting, "") for name, values in per_file.items()}
        if len(set(values.values())) == 1:
            text = next(iter(values.values()))
        else:
            text = "; ".join(f"{name}: {value}" for name, value in values.items())
        rows.append({"setting": setting, "value": text})
    notes = sorted(
        {
            r["machine_info"]["suite"]["dataset_fallback"]
            for r in all_results
            if r["machine_info"]["suite"].get("dataset_fallback")
        }
    )
    return [
        "## Environment",
        "",
        f"Results files: {', '.join(per_file)}.",
        "",
        pd.DataFrame(rows).to_markdown(index=False),
        "",
        *[f"Dataset fallback: {note}" for note in notes],
        "",
    ]


def _ratio(value, base) -> str:
    if value is None or base is None or not base:
        return ""
    return f" ({value / base:.2f}×)"


def results_table(analysis: Analysis, backend: str, arch: str) -> pd.DataFrame:
    train = analysis.cells("train_throughput")
    infer = analysis.cells("inference_throughput")
    latency = analysis.cells("latency_batch1")
    first = analysis.cells("first_step_and_memory")
    accuracy = analysis.cells("accuracy")

    def figures(api):
        key = (backend, arch, api)
        out = {}
        tp = _throughput(train.get(key))
        out["train"] = tp
        inf = _throughput(infer.get(key))
        out["infer"] = inf[0] if inf else None
        lat = latency.get(key)
        out["p50"] = lat.extra.get("p50_s") * 1e3 if lat is not None and "p50_s" in lat.extra else None
        out["p90"] = lat.extra.get("p90_s") * 1e3 if lat is not None and "p90_s" in lat.extra else None
        fs = first.get(key)
        out["first"] = float(np.median(fs.extra["first_step_s"])) if fs is not None else None
        growth, out["rss_note"] = results_io.rss_growth(fs.extra) if fs is not None else (None, None)
        out["rss"] = growth / 2**20 if growth is not None else None
        out["device_mem"] = (fs.extra.get("device_peak_bytes") or 0) / 2**20 if fs is not None else None
        acc = accuracy.get(key)
        out["accuracy"] = acc.extra["test_accuracy"] if acc is not None else None
        out["accuracy_note"] = (
            f" (stopped after {acc.extra['epochs']} of {acc.extra['epochs_planned']} epochs: "
            f"{acc.extra['stopped_early']})"
            if acc is not None and acc.extra.get("stopped_early")
            else ""
        )
        params = next(
            (c.extra.get("params") for c in (train.get(key), infer.get(key)) if c is not None), None
        )
        out["params"] = params
        return out

    apis = list(analysis.apis[arch])
    if any(key == (backend, arch, NATIVE) for key in train | infer | latency):
        apis.append(NATIVE)
    per_api = {api: figures(api) for api in apis}
    base = per_api.get(BASE_API, {})
    rows = []
    for api, f in per_api.items():
        not_run = _na("not measured in this run (deselected or out of time)")
        row = {"API": api}
        row["params"] = _fmt(f["params"]) if f["params"] else not_run
        for (kind, label), absolute in zip(
            TIMED,
            (
                (
                    "own train img/s [95% CI]",
                    f"{_fmt(f['train'][0])} [{_fmt(f['train'][1])}–{_fmt(f['train'][2])}]"
                    if f["train"]
                    else not_run,
                ),
                ("own inference img/s", _fmt(f["infer"]) if f["infer"] else not_run),
                ("own batch-1 p50 / p90 (ms)", f"{f['p50']:.2f} / {f['p90']:.2f}" if f["p50"] else not_run),
            ),
            strict=True,
        ):
            row[absolute[0]] = absolute[1]
            r = analysis.ratio(backend, arch, api, kind)
            row[f"{label} time ÷ Functional"] = (
                f"{'A/A ' if api == BASE_API else ''}{r}" if isinstance(r, Ratio) else _na(r)
            )
        row["first step (s)"] = (
            f"{f['first']:.2f}{_ratio(f['first'], base.get('first'))}" if f["first"] else not_run
        )
        if f["first"] is not None:
            memory = (
                f"{f['rss']:,.0f} MiB RSS{_ratio(f['rss'], base.get('rss'))}"
                if f["rss"] is not None
                else f"RSS {_na(f['rss_note'])}"
            )
            memory += f", {f['device_mem']:,.0f} MiB device" if f["device_mem"] else ", device: n/a: CPU run"
            row["peak memory"] = memory
        else:
            row["peak memory"] = not_run
        row["test accuracy"] = (
            f"{f['accuracy']:.4f}{_ratio(f['accuracy'], base.get('accuracy'))}{f['accuracy_note']}"
            if f["accuracy"] is not None
            else not_run
        )
        rows.append(row)
    return pd.DataFrame(rows)


def native_section(analysis: Analysis, backend: str, arch: str) -> list[str]:
    """What Keras costs: each API's time per round against the native model's, both on the run's basis.

    Both are divided by the partner rounds around each of their rounds, so the ratio of
    their medians is free of the machine's drift; the CI is a bootstrap over rounds.
    """
    rows = []
    for api in analysis.apis[arch]:
        row = {"API": api}
        for kind, label in TIMED:
            r = analysis.against_native(backend, arch, api, kind)
            row[f"{label}: Keras ÷ native time"] = str(r) if isinstance(r, Ratio) else _na(r)
        rows.append(row)
    if all(value.startswith("n/a") for row in rows for key, value in row.items() if key != "API"):
        return []
    return [
        f"### What Keras costs against native {backend} code",
        "",
        f"The {span(arch)} written without Keras in {backend} (implementations/native/), started from the same "
        "weights, timed in the same run on the same basis. Above 1: the Keras model takes longer per step; "
        "95% CI in brackets. The functional row is also the fidelity of the suite's timed step "
        "(train_on_batch / predict_on_batch) against a bare compiled step.",
        "",
        pd.DataFrame(rows).to_markdown(index=False),
        "",
        *_native_accuracy(analysis, backend, arch),
    ]


def _native_accuracy(analysis: Analysis, backend: str, arch: str) -> list[str]:
    """The native model's test accuracy beside Functional's, when the run trained both."""
    accuracy = analysis.cells("accuracy")
    native_row, keras_row = accuracy.get((backend, arch, NATIVE)), accuracy.get((backend, arch, BASE_API))
    if native_row is None:
        return []
    native_acc = native_row.extra["test_accuracy"]
    text = f"Test accuracy, same recipe (epochs, batch, BatchNorm recalibration): native {native_acc:.4f}"
    if keras_row is not None:
        keras_acc = keras_row.extra["test_accuracy"]
        text += (
            f", {BASE_API} {keras_acc:.4f} ({native_acc - keras_acc:+.4f}); the native loop shuffles with "
            "its own generator, so the two follow different data orders"
        )
    return [text + ".", ""]


def capability_section(found: dict, notes: list[str]) -> list[str]:
    lines = ["## Capabilities", "", *notes, ""] if notes else ["## Capabilities", ""]
    for backend in sorted(found):
        for arch in sorted(found[backend]):
            table = pd.DataFrame(found[backend][arch])
            table.index.name = "capability"
            lines += [f"### {span(arch)} on {backend}", "", table.to_markdown(), ""]
    return lines


def decisions(analysis: Analysis, backend: str, arch: str) -> list[str]:
    """One line per benchmark kind comparing each API with Functional, and the accuracy agreement."""
    sentences = []
    for kind, label in TIMED:
        parts = []
        for api in analysis.apis[arch]:
            if api == BASE_API:
                continue
            r = analysis.ratio(backend, arch, api, kind)
            if isinstance(r, Ratio):
                basis = "paired rounds" if r.paired else "two samples, not paired: wider CI"
                parts.append(f"{span(f'{arch}-{api}')} {r} — {r.words()} ({basis})")
            elif r != "not measured in this run":
                parts.append(f"{span(f'{arch}-{api}')} n/a: {r}, too few to tell signal from noise")
        if parts:
            sentences.append(f"- {label}, time ÷ {span(f'{arch}-{BASE_API}')}: " + "; ".join(parts) + ".")
    accuracy = analysis.cells("accuracy")
    values = {
        api: accuracy[(backend, arch, api)].extra["test_accuracy"]
        for api in analysis.apis[arch]
        if (backend, arch, api) in accuracy
    }
    if len(values) > 1:
        spread = max(values.values()) - min(values.values())
        deterministic = all(accuracy[(backend, arch, api)].extra.get("deterministic") for api in values)
        if spread == 0:
            sentences.append(
                f"- accuracy: every API reaches exactly {next(iter(values.values())):.4f}"
                + (
                    " — same seed, same weights, deterministic ops: the same computation."
                    if deterministic
                    else "."
                )
            )
        else:
            sentences.append(
                f"- accuracy: the APIs differ by {spread:.4f} at most "
                f"({', '.join(f'{a} {v:.4f}' for a, v in values.items())})"
                + ("" if deterministic else "; without deterministic ops, run-to-run variation is expected")
                + "."
            )
    for api in values:
        row = accuracy[(backend, arch, api)]
        if row.extra.get("bn_recalibration_batches"):
            sentences.append(
                f"- accuracy is measured after recomputing BatchNorm's moving statistics over "
                f"{row.extra['bn_recalibration_batches']} training batches before each evaluation "
                "(short runs leave them far from the data's)."
            )
            break
    return sentences or ["- n/a: no timing data with per-round samples in this run"]


def backend_matrix(analysis: Analysis) -> pd.DataFrame | None:
    """Training and inference images/s per (arch, api) × backend, when several backends are in the results."""
    train = analysis.cells("train_throughput")
    infer = analysis.cells("inference_throughput")
    backends = sorted({key[0] for key in (*train, *infer)})
    if len(backends) < 2:
        return None
    rows = []
    for arch, api in [(arch, api) for arch in analysis.archs for api in analysis.apis[arch]]:
        row = {"cell": f"{arch}-{api}"}
        for backend in backends:
            figures = [_throughput(cells.get((backend, arch, api))) for cells in (train, infer)]
            row[f"{backend} train / inference"] = (
                " / ".join(_fmt(f[0]) if f else "n/a" for f in figures)
                if any(figures)
                else _na("not run on this backend")
            )
        rows.append(row)
    return pd.DataFrame(rows)


def _fallbacks(all_results: list[dict]) -> list[str]:
    """What ran differently from the suite's intent: CPU instead of GPU (each backend once), offline data."""
    notes, on_cpu = set(), set()
    for results in all_results:
        suite = results["machine_info"]["suite"]
        if suite.get("device_kind") != "gpu":
            on_cpu.add(suite["backend"])
        if suite["dataset"] != "mnist" and not suite.get("models"):  # a user's models bring their own data
            notes.add(f"dataset {suite['dataset']} (offline data)")
    if on_cpu:
        notes.add(f"{', '.join(sorted(on_cpu))} ran on the CPU (no GPU seen by the backend)")
    return sorted(notes)


def _scope(analysis: Analysis, all_results: list[dict], out: Path) -> list[str]:
    """One line of what was measured: model sizes, data, hardware, versions, what is timed; and the GPU
    report's answer where one sits beside this report's folder (reports/gpu/*)."""
    sizes = []
    frame = analysis.frame
    for arch in analysis.archs:
        params = [r.get("params") for r in frame[frame["arch"] == arch]["extra"] if isinstance(r, dict)]
        params = [p for p in params if isinstance(p, int)]
        sizes.append(f"{span(arch)} {max(params):,} parameters" if params else span(arch))
    suites = [r["machine_info"]["suite"] for r in all_results]
    fallback = " (offline data: a fallback)" if any("offline" in note for note in _fallbacks(all_results)) else ""
    datasets = sorted({s["dataset"] for s in suites})
    cpus = sorted({f"{s.get('cpu_model')}, {s.get('cpu_threads')} threads" for s in suites})
    devices = sorted({"GPU" if s.get("device_kind") == "gpu" else "CPU (no GPU seen: a fallback)" for s in suites})
    versions = {}
    for suite in suites:
        versions.update({k: v for k, v in suite.get("versions", {}).items() if v and k != "numpy"})
    keras_version = versions.pop("keras", "?")
    frameworks = ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))
    line = (f"Measured: {', '.join(sizes)}; data {', '.join(datasets)}{fallback}; {'; '.join(cpus)}, {' and '.join(devices)}; "
            f"Keras {keras_version} on {frameworks}; timed: a training step, a predict batch, batch 1 (CPU time).")
    gpu = sorted((out.parent / "gpu").glob("*/REPORT.md")) if out.name != "gpu" else []
    links = ", ".join(f"[{path.parent.name}]({path.relative_to(out.parent).as_posix().join(['../', ''])}#the-answer)"
                      for path in gpu)  # fmt: skip
    return [line + (f" The answer on a GPU: {links}." if links else "")]


def _without_data(all_results: list[dict]) -> set[str]:
    """The users' model sets whose models files define no data(): their accuracy is n/a, and why."""
    return {
        str(entry.get("name"))
        for results in all_results
        for entry in results["machine_info"]["suite"].get("models") or []
        if isinstance(entry, dict) and entry.get("data") is False
    }


def _time_to_target(analysis: Analysis, backend: str, arch: str) -> list[str]:
    accuracy = analysis.cells("accuracy")
    targets = []
    for api in analysis.apis[arch]:
        row = accuracy.get((backend, arch, api))
        if row is not None:
            reached = row.extra.get("time_to_target_s")
            targets.append(
                f"{api}: {reached:.1f} s"
                if reached is not None
                else f"{api}: n/a: target not reached in {row.extra['epochs']} epochs"
            )
    if not targets:
        return []
    target = next(r.extra.get("accuracy_target") for k, r in accuracy.items() if k[1] == arch)
    if target is None:  # a user's model: no target to wait for
        return []
    return [f"Time to {target:.2%} test accuracy (training time only): " + "; ".join(targets) + ".", ""]


def _read(paths: list[str | Path]) -> tuple[list[dict], Analysis, dict[str, list[str]]]:
    """The results files, their analysis (repeats of a backend pooled), and which files were pooled."""
    # every string of the files shown as itself in Markdown, once: names need no escaping where used below
    all_results = [markdown_strings(results_io.load(path)) for path in paths]
    frame, pooled_files = results_io.pool_repeats(all_results)
    return all_results, analyse(frame), pooled_files


def _blocks(analysis: Analysis) -> dict[str, list[str]]:
    return {name: findings.findings(analysis, name) for name in ("summary", "findings")} | {
        "verdicts": findings.verdicts_table(analysis)}


def findings_of(paths: list[str | Path]) -> dict[str, list[str]]:
    """The generated blocks (:mod:`bench.report.findings`), by name, of the results files ``paths``."""
    return _blocks(_read(paths)[1])


def build_report(paths: list[str | Path], out_dir: str | Path, findings_into: list[Path] = ()) -> Path:
    """Write REPORT.md and PNG plots for the results files ``paths`` into ``out_dir``; with ``findings_into``,
    the findings bullets into each of those files' marked block too."""
    all_results, analysis, pooled_files = _read(paths)
    for target in findings_into:
        findings.write_into(Path(target), _blocks(analysis))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# Keras API choice: Sequential, Functional, subclassing, Functional Subclassing", ""]
    lines += [
        f"**Partial results:** {Path(r['_path']).name} is from an interrupted run "
        f"({r['machine_info']['suite']['interrupted']}); benchmarks it lacks show as missing."
        for r in all_results
        if r["machine_info"]["suite"].get("interrupted")
    ]
    lines += answer_section(analysis, _without_data(all_results), _scope(analysis, all_results, out))
    lines += summary_section(analysis, pooled_files)
    lines += [
        "## Details",
        "",
        "Same architectures, same weights, three APIs. Time ratios are to the Functional model, from rounds "
        "paired with it where the run did so (95% CI in brackets; above 1: slower). First step and peak "
        "memory come from a fresh process per model: first step is build + compile + one training step; RSS "
        "is the resident memory that build, compile and the probe's first three training steps added on top "
        "of the imported "
        "framework (its high-water mark); ratios in parentheses are to Functional. The img/s and latency "
        "columns are each cell's own rounds, measured minutes apart from the others': compare APIs by the "
        "'÷ Functional' columns, which pair rounds measured seconds apart.",
        "",
    ]
    for backend in analysis.backends:
        for arch in analysis.archs:
            if not analysis.measured(backend, arch):
                continue
            lines += [
                f"## {span(arch)} on {backend}",
                "",
                results_table(analysis, backend, arch).to_markdown(index=False),
            ]
            lines += ["", *_time_to_target(analysis, backend, arch)]
            lines += ["### What the numbers say", "", *decisions(analysis, backend, arch), ""]
            lines += native_section(analysis, backend, arch)
    matrix = backend_matrix(analysis)
    if matrix is not None:
        lines += [
            "## API × backend: training / inference images/s (medians)",
            "",
            matrix.to_markdown(index=False),
            "",
            "Keras picks its backend once per process, so each column comes from its own run: a machine's "
            "speed can drift between runs, and only the per-backend sections above compare APIs with that "
            "drift removed. Read the columns for the size of the backend effect, not for a few percent. "
            "The same seed draws different initial weights on each backend, so test accuracy is compared "
            "between APIs on one backend, not across backends.",
            "",
        ]
    lines += capability_section(analysis.capabilities, analysis.capability_notes)
    plots.forest_plot(analysis, out / "ratios.png")
    native = plots.forest_plot(analysis, out / "native.png", (NATIVE,), "the same networks without Keras")
    curves = plots.curves_to_show(analysis)
    if curves:
        plots.accuracy_plot(analysis, out / "accuracy.png")
    coincide = plots.coinciding_curves(analysis)
    lines += [
        "## Plots",
        "",
        "![each API's time ÷ Functional per benchmark kind, 95% CI; left of 1 is faster](ratios.png)",
        "",
        *(["![native models' time ÷ Functional (Keras); left of 1: native is faster](native.png)", ""]
          if native else []),
        *(["![test accuracy per epoch, per API and backend](accuracy.png)", ""] if curves else []),
        *([f"Accuracy curves drawn on top of each other: {'; '.join(coincide)}.", ""] if coincide and curves else []),
    ]
    lines += environment_section(all_results)
    report = out / "REPORT.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
