"""Build the Markdown API-choice report (tables, capability matrix, decisions, plots) from results files.

One or more results files (e.g. one per Keras backend) go in; REPORT.md and its
PNG plots come out.  All presentation lives here; the results stay plain data.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import implementations  # noqa: E402
from bench import results as results_io  # noqa: E402
from bench.compare import SLOWDOWN_THRESHOLD  # noqa: E402
from bench.stats import compare_samples, median_ci  # noqa: E402
from bench.steps import NATIVE  # noqa: E402

BASE_API = "functional"
NOISE_FLOOR = 0.05  # differences under 5% are called noise even when the CI excludes 1
MIN_ROUNDS = 5  # fewer rounds than this per cell: no verdict


def _na(reason: str) -> str:
    return f"n/a: {reason}"


def _fmt(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def _per_cell(frame: pd.DataFrame, kind: str) -> dict[tuple[str, str, str], pd.Series]:
    rows = frame[frame["kind"] == kind]
    return {(row.backend, row.arch, row.api): row for row in rows.itertuples()}


def _throughput(row) -> tuple[float, float, float] | None:
    """(images/s, CI low, CI high) from per-round times and the batch size."""
    if row is None or not row.data:
        return None
    batch = row.extra["batch"]
    return median_ci(row.data, transform=lambda seconds: batch / seconds)


def _normalized(row) -> np.ndarray:
    """Round times (CPU time where recorded) divided by the native reference rounds around each."""
    return results_io.normalized_times(*results_io.timed_rounds(row.extra, row.data))


def environment_section(all_results: list[dict]) -> list[str]:
    """One column per results file: where, on what and how each was measured."""
    columns = {}
    for results in all_results:
        suite = results["machine_info"]["suite"]
        versions = {k: v for k, v in suite.get("versions", {}).items() if v}
        commit = suite.get("commit") or (results.get("commit_info") or {}).get("id") or "unknown"
        settings = suite.get("settings", {})
        overridden = settings.get("overridden") or []
        columns[Path(results["_path"]).name] = {
            "backend": suite["backend"],
            "device": suite["device"]
            + ("" if suite.get("device_kind") == "gpu" else " (fallback: no GPU seen by the backend)"),
            "CPU": f"{suite.get('cpu_model')} ({suite.get('cpu_threads')} threads)",
            "versions": ", ".join(f"{k} {v}" for k, v in versions.items()),
            "dataset": suite["dataset"]
            + (" (fallback: full MNIST could not be downloaded)" if suite.get("dataset_fallback") else "")
            + (" (offline data)" if suite["dataset"] != "mnist" else ""),
            "profile": f"{suite['profile']}: {settings.get('description', '')}",
            "switches": f"jit={settings.get('jit')}, mixed precision={settings.get('mixed_precision')}, "
            f"deterministic ops={settings.get('deterministic')}",
            "overrides": ", ".join(f"{k}={settings.get(k)}" for k in overridden) or "none",
            "seed": suite.get("seed"),
            "commit": commit
            + (
                f" (uncommitted changes in {', '.join(suite['changed_paths'])})"
                if suite.get("changed_paths")
                else ""
            )
            + (f" ({suite['commit_note']})" if suite.get("commit_note") else ""),
            "measured": results.get("datetime", "unknown"),
        }
    table = pd.DataFrame(columns)
    table.index.name = "results file"
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
        table.to_markdown(),
        "",
        *[f"Dataset fallback: {note}" for note in notes],
        "",
    ]


def _ratio(value, base) -> str:
    if value is None or base is None or not base:
        return ""
    return f" ({value / base:.2f}×)"


def results_table(frame: pd.DataFrame, backend: str, arch: str) -> pd.DataFrame:
    train = _per_cell(frame, "train_throughput")
    infer = _per_cell(frame, "inference_throughput")
    latency = _per_cell(frame, "latency_batch1")
    first = _per_cell(frame, "first_step_and_memory")
    accuracy = _per_cell(frame, "accuracy")

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

    apis = list(implementations.APIS)
    if any(key == (backend, arch, NATIVE) for key in train | infer | latency):
        apis.append(NATIVE)
    per_api = {api: figures(api) for api in apis}
    base = per_api.get(BASE_API, {})
    rows = []
    for api, f in per_api.items():
        not_run = _na("not measured in this run (deselected or out of time)")
        row = {"API": api}
        row["params"] = _fmt(f["params"]) if f["params"] else not_run
        if f["train"]:
            value, low, high = f["train"]
            base_value = base["train"][0] if base.get("train") else None
            row["train img/s [95% CI]"] = (
                f"{_fmt(value)} [{_fmt(low)}–{_fmt(high)}]{_ratio(value, base_value)}"
            )
        else:
            row["train img/s [95% CI]"] = not_run
        row["inference img/s"] = (
            f"{_fmt(f['infer'])}{_ratio(f['infer'], base.get('infer'))}" if f["infer"] else not_run
        )
        row["latency p50 / p90 (ms)"] = (
            f"{f['p50']:.2f} / {f['p90']:.2f}{_ratio(f['p50'], base.get('p50'))}" if f["p50"] else not_run
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


NATIVE_KINDS = (
    ("train_throughput", "train step"),
    ("inference_throughput", "predict"),
    ("latency_batch1", "batch 1"),
)


def native_section(frame: pd.DataFrame, backend: str, arch: str) -> list[str]:
    """What Keras costs: each API's time per round against the native model's, paired by the reference.

    Both are divided by the native reference rounds around each of their rounds, so the ratio of
    their medians is free of the machine's drift; the CI is a bootstrap over rounds.
    """
    rows = []
    for api in implementations.APIS:
        row = {"API": api}
        for kind, label in NATIVE_KINDS:
            cells = _per_cell(frame, kind)
            keras_row, native_row = cells.get((backend, arch, api)), cells.get((backend, arch, NATIVE))
            if keras_row is None or native_row is None or len(keras_row.data) < MIN_ROUNDS:
                row[f"{label}: Keras / native time"] = _na("not measured in this run")
                continue
            c = compare_samples(_normalized(keras_row), _normalized(native_row))
            row[f"{label}: Keras / native time"] = f"{c.ratio:.3f} [{c.low:.3f}–{c.high:.3f}]"
        rows.append(row)
    if all(value.startswith("n/a") for row in rows for key, value in row.items() if key != "API"):
        return []
    return [
        f"### What Keras costs against native {backend} code",
        "",
        f"The `{arch}` written without Keras in {backend} (implementations/native/), started from the same "
        "weights, timed in the same run on the same basis. Above 1: the Keras model takes longer per step; "
        "95% CI in brackets.",
        "",
        pd.DataFrame(rows).to_markdown(index=False),
        "",
    ]


def capability_table(arch: str) -> pd.DataFrame:
    from reports.capabilities import probe

    table = pd.DataFrame({api: probe(arch, api) for api in implementations.APIS})
    table.index.name = "capability"
    return table


def decisions(frame: pd.DataFrame, backend: str, arch: str) -> list[str]:
    """Sentences comparing each API to the Functional one, saying what is inside the noise."""
    sentences = []
    for kind, label in (
        ("train_throughput", "training step"),
        ("inference_throughput", "inference"),
        ("latency_batch1", "batch-1 latency"),
    ):
        cells = _per_cell(frame, kind)
        base = cells.get((backend, arch, BASE_API))
        if base is None or not base.data:
            continue
        for api in implementations.APIS:
            row = cells.get((backend, arch, api))
            if api == BASE_API or row is None or not row.data:
                continue
            if min(len(row.data), len(base.data)) < MIN_ROUNDS:
                sentences.append(
                    f"- {label}: `{arch}-{api}` vs `{arch}-{BASE_API}`: n/a: fewer than "
                    f"{MIN_ROUNDS} rounds each, too few to tell signal from noise."
                )
                continue
            c = compare_samples(_normalized(row), _normalized(base))
            noise = c.low <= 1.0 <= c.high or c.p_value >= 0.05 or abs(c.ratio - 1) < NOISE_FLOOR
            verdict = (
                "is within the noise of"
                if noise
                else f"is {abs(c.ratio - 1):.0%} {'slower' if c.ratio > 1 else 'faster'} than"
            )
            caveat = (
                f"; below the {SLOWDOWN_THRESHOLD:.0%} the regression check asks for between runs, "
                "so confirm it in a second run before relying on it"
                if not noise and abs(c.ratio - 1) < SLOWDOWN_THRESHOLD
                else ""
            )
            sentences.append(
                f"- {label}: `{arch}-{api}` {verdict} `{arch}-{BASE_API}` "
                f"(ratio of reference-normalized round times {c.ratio:.3f}, 95% CI {c.low:.3f}–{c.high:.3f}, "
                f"Mann-Whitney p={c.p_value:.3g}{caveat})."
            )
    accuracy = _per_cell(frame, "accuracy")
    values = {
        api: accuracy[(backend, arch, api)].extra["test_accuracy"]
        for api in implementations.APIS
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
        last = (row.extra.get("epoch_log") or [{}])[-1]
        gap = last.get("train_accuracy", 0) - last.get("test_accuracy", 0)
        if gap > 0.2:
            steps = row.extra["epochs"] * -(-row.extra["train_images"] // row.extra["batch"])
            sentences.append(
                f"- `{arch}`: test accuracy ({last['test_accuracy']:.3f}) trails train accuracy "
                f"({last['train_accuracy']:.3f}) after {steps} steps: BatchNorm's moving statistics "
                "(momentum 0.99) have not caught up with the weights yet; this is the recipe on little data, "
                "not a difference between APIs."
            )
            break
    return sentences or ["- n/a: no timing data with per-round samples in this run"]


def plot_throughput(frame: pd.DataFrame, path: Path) -> None:
    cells = _per_cell(frame, "train_throughput")
    labels, values, errors = [], [], []
    for (backend, arch, api), row in sorted(
        cells.items(), key=lambda kv: (kv[0][0], kv[0][1], (*implementations.APIS, NATIVE).index(kv[0][2]))
    ):
        tp = _throughput(row)
        if tp:
            labels.append(f"{arch}\n{api}\n{backend}")
            values.append(tp[0])
            errors.append([[tp[0] - tp[1]], [tp[2] - tp[0]]])
    fig, ax = plt.subplots(figsize=(max(6, len(labels) * 1.1), 4))
    if values:
        err = np.hstack(errors) if errors else None
        ax.bar(range(len(values)), values, yerr=err, capsize=4, color=["C0", "C1", "C2"] * len(values))
        ax.set_xticks(range(len(values)), labels, fontsize=7)
    ax.set_ylabel("training images/s (median, 95% CI)")
    ax.set_title("Training throughput per API")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_accuracy(frame: pd.DataFrame, path: Path) -> None:
    cells = _per_cell(frame, "accuracy")
    fig, ax = plt.subplots(figsize=(7, 4))
    for (backend, arch, api), row in sorted(cells.items()):
        log = row.extra.get("epoch_log", [])
        ax.plot(
            [e["epoch"] for e in log],
            [e["test_accuracy"] for e in log],
            marker="o",
            label=f"{arch}-{api} ({backend})",
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy")
    ax.set_title("Test accuracy per epoch")
    if cells:
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def backend_matrix(frame: pd.DataFrame) -> pd.DataFrame | None:
    """Training and inference images/s per (arch, api) × backend, when several backends are in the results."""
    train = _per_cell(frame, "train_throughput")
    infer = _per_cell(frame, "inference_throughput")
    backends = sorted({key[0] for key in (*train, *infer)})
    if len(backends) < 2:
        return None
    rows = []
    for arch, api in implementations.cell_ids():
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


def build_report(paths: list[str | Path], out_dir: str | Path) -> Path:
    """Write REPORT.md and PNG plots for the results files ``paths`` into ``out_dir``."""
    all_results = [results_io.load(path) for path in paths]
    frame = pd.concat([results_io.frame(r) for r in all_results], ignore_index=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Keras API choice: Sequential vs Functional vs subclassing",
        "",
        "Same architectures, same weights, three APIs. Ratios in parentheses are to the Functional row "
        "(for times and memory, above 1 means more; for throughput and accuracy, above 1 means more).",
        "",
        "First step and peak memory come from a fresh process per model: first step is build + compile + "
        "one training step; RSS is the resident memory that build, compile and six training steps added "
        "on top of the imported framework (its high-water mark); device is the accelerator's peak.",
        "",
    ]
    partial = [
        f"**Partial results:** {Path(r['_path']).name} is from an interrupted run "
        f"({r['machine_info']['suite']['interrupted']}); benchmarks it lacks show as missing."
        for r in all_results
        if r["machine_info"]["suite"].get("interrupted")
    ]
    lines += [*partial, ""] if partial else []
    lines += environment_section(all_results)
    for backend in sorted(frame["backend"].dropna().unique()):
        for arch in implementations.ARCHS:
            if not ((frame["backend"] == backend) & (frame["arch"] == arch)).any():
                continue
            lines += [
                f"## `{arch}` on {backend}",
                "",
                results_table(frame, backend, arch).to_markdown(index=False),
                "",
            ]
            accuracy = _per_cell(frame, "accuracy")
            targets = []
            for api in implementations.APIS:
                row = accuracy.get((backend, arch, api))
                if row is not None:
                    reached = row.extra.get("time_to_target_s")
                    targets.append(
                        f"{api}: {reached:.1f} s"
                        if reached is not None
                        else f"{api}: n/a: target not reached in {row.extra['epochs']} epochs"
                    )
            if targets:
                target = next(r.extra["accuracy_target"] for k, r in accuracy.items() if k[1] == arch)
                lines += [
                    f"Time to {target:.2%} test accuracy (training time only): " + "; ".join(targets) + ".",
                    "",
                ]
            lines += ["### What the numbers say", "", *decisions(frame, backend, arch), ""]
            lines += native_section(frame, backend, arch)
    matrix = backend_matrix(frame)
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
    lines += ["## Capabilities (probed when this report was built)", ""]
    for arch in implementations.ARCHS:
        lines += [f"### `{arch}`", "", capability_table(arch).to_markdown(), ""]
    plot_throughput(frame, out / "throughput.png")
    plot_accuracy(frame, out / "accuracy.png")
    lines += [
        "## Plots",
        "",
        "![training throughput](throughput.png)",
        "",
        "![test accuracy per epoch](accuracy.png)",
        "",
    ]
    report = out / "REPORT.md"
    report.write_text("\n".join(lines), encoding="utf-8")
    return report
