"""The report builder on a small saved results file (a cnn-only smoke run)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.report.build import build_report
from tests.support.results import (
    PROBED_CNN,
    SAVED,
    paired_results,
    partner_only_results,
    synthetic_results,
    with_capabilities,
    write,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"

@pytest.fixture
def report(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("report")
    probed = write(out, "probed.json", with_capabilities(json.loads(SAVED.read_text())))
    path = build_report([probed], out)
    return out, path.read_text()


def test_environment_is_recorded(report):
    _, text = report
    suite = json.loads(SAVED.read_text())["machine_info"]["suite"]
    for fragment in (
        "tensorflow 2.",
        "keras 3.",
        suite["commit"],
        "mnist-5k",
        "smoke",
        "threads",
        "no GPU seen by the backend",
        "offline data",
        "seed",
    ):
        assert fragment in text, fragment


def test_a_row_per_api_with_every_figure(report):
    _, text = report
    section = text.split("## `cnn` on tensorflow")[1].split("##")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "API" not in line]
    assert [row.split("|")[1].strip() for row in rows] == ["sequential", "functional", "subclassing"]
    for row in rows:
        cells = [cell.strip() for cell in row.split("|")[2:-1]]
        assert len(cells) == 10 and all(cells), row
        assert "1,097,098" in cells[0] and "MiB RSS" in cells[8]
        # two rounds each in the saved smoke run: no ratio is claimed
        assert cells[2] == cells[4] == cells[6] == "n/a: fewer than 5 rounds"


def test_missing_cells_say_why(report):
    _, text = report
    # the saved run holds only cnn: nothing is invented for resnet
    assert "## `resnet` on tensorflow" not in text
    assert "n/a: fewer than 5 rounds" in text


def test_capability_matrix_shows_what_the_run_probed(report):
    _, text = report
    matrix = text.split("## Capabilities")[1]
    assert "no: AttributeError" in matrix  # subclassed models have no .inputs to cut a graph from
    assert "no: build() left 0 weights" in matrix
    assert "lines of code" in matrix and "hold no capability probes" not in matrix


def test_capabilities_recorded_in_the_results_are_shown_as_recorded(tmp_path):
    recorded = json.loads(json.dumps(PROBED_CNN))
    recorded["functional"]["lines of code"] = 1234
    results = with_capabilities(json.loads(SAVED.read_text()), recorded)
    text = build_report([write(tmp_path, "probed.json", results)], tmp_path / "out").read_text()
    assert "| lines of code" in text and "1234" in text


def test_a_report_never_probes_and_says_what_its_files_lack(tmp_path):
    """A file without probes is reported without them, and building the report loads no probe."""
    out = tmp_path / "out"
    code = (
        "import sys; from bench.report.build import build_report; "
        f"text = build_report([{str(SAVED)!r}], {str(out)!r}).read_text(); "
        "print(sorted(m for m in sys.modules if m.startswith('bench.probes') or m == 'keras')); "
        "print('hold no capability probes (cnn): not shown' in text)"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    modules, said = shown.stdout.strip().splitlines()[-2:]
    assert modules == "[]" and said == "True"


def test_plots_are_png(report):
    """The API comparison always; the native models in a figure of their own where timed; accuracy only
    where a run trained several epochs (a curve to show)."""
    from bench.core import results as results_io
    from bench.core.kinds import NATIVE
    from bench.report import plots
    from bench.report.analysis import analyse

    out, text = report

    frame, _ = results_io.pool_repeats([results_io.load(out / "probed.json")])
    expected = {"ratios.png": True, "native.png": (frame["api"] == NATIVE).any(),
                "accuracy.png": plots.curves_to_show(analyse(frame))}  # fmt: skip
    for name, shown in expected.items():
        assert ((out / name).exists() and f"]({name})" in text) == bool(shown), name
        if shown:
            assert (out / name).read_bytes()[:8] == PNG_MAGIC


def _summary(tmp_path, slowdown: dict) -> str:
    path = write(tmp_path, "paired.json", with_capabilities(paired_results(3, slowdown)))
    return build_report([path], tmp_path / "out").read_text().split("## Details")[0]


def _summary_row(summary: str, cell: str) -> list[str]:
    line = next(line for line in summary.splitlines() if line.startswith(f"| {cell} "))
    return [part.strip() for part in line.split("|")[1:-1]]


def test_summary_states_paired_ratios_with_their_cis(tmp_path):
    summary = _summary(tmp_path, {"cnn-subclassing": 1.10})
    sequential, functional, subclassing = (
        _summary_row(summary, f"cnn-{api}") for api in ("sequential", "functional", "subclassing")
    )
    ratio = re.compile(r"^(A/A )?(\d\.\d{3}) \[(\d\.\d{3})–(\d\.\d{3})\] ")
    for row in (sequential, functional, subclassing):
        for cell in row[1:4]:
            match = ratio.match(cell)
            assert match, cell
            assert (float(match.group(4)) - float(match.group(3))) / 2 <= 0.02, cell  # paired: tight
    # equal cost: the same, or at most a difference the summary marks as under the noise floor
    assert all(
        re.search(r"\] (indistinguishable within ±|\d% \w+ \(under 5%\))", cell) for cell in sequential[1:4]
    ), sequential
    assert all(re.search(r"\] (9|10|11)% slower$", cell) for cell in subclassing[1:4]), subclassing
    assert functional[1].startswith("A/A 1.0")


def test_recommendation_follows_the_figures(tmp_path):
    slow = _summary(tmp_path, {"cnn-sequential": 1.10})
    verdict = next(line for line in slow.splitlines() if line.startswith("- **`cnn`: "))
    assert verdict.startswith("- **`cnn`: use functional**"), verdict
    guide = "Keras' guides point to sequential here (a plain stack of layers)"
    assert f"{guide}; the measurements point to functional instead" in verdict
    assert "sequential: speed or memory: slower on tensorflow (train step 10% slower than functional" in verdict
    (tmp_path / "even").mkdir()
    even = _summary(tmp_path / "even", {})
    verdict = next(line for line in even.splitlines() if line.startswith("- **`cnn`: "))
    # same speed: the probes decide, and where nothing separates two APIs the verdict is a tie
    assert verdict.startswith("- **`cnn`: tie: sequential or functional; sequential is shorter** — weighted "
                              "drawbacks sequential 0, functional 0, subclassing 3"), verdict
    assert verdict.endswith("the measurements agree.")
    assert "subclassing: " in verdict and "no build()+load_weights" in verdict


def test_keras_is_priced_against_the_native_model(tmp_path):
    results = synthetic_results(0)
    for bench in [
        b for b in results["benchmarks"] if "-functional]" in b["name"] and "cpu_round_s" in b["extra_info"]
    ]:
        native = json.loads(json.dumps(bench))
        native["name"] = native["name"].replace("-functional]", "-native]")
        native["param"] = native["param"].replace("functional", "native")
        native["params"]["api"] = "native"
        native["extra_info"]["cpu_round_s"] = [t / 1.25 for t in native["extra_info"]["cpu_round_s"]]
        results["benchmarks"].append(native)
    keras_accuracy = next(b for b in results["benchmarks"] if b["name"] == "test_accuracy[cnn-functional]")
    native_accuracy = json.loads(json.dumps(keras_accuracy))
    native_accuracy["name"], native_accuracy["params"]["api"] = "test_accuracy[cnn-native]", "native"
    native_accuracy["param"] = "cnn-native"
    native_accuracy["extra_info"]["test_accuracy"] = keras_accuracy["extra_info"]["test_accuracy"] - 0.0125
    results["benchmarks"].append(native_accuracy)
    text = build_report([write(tmp_path, "native.json", results)], tmp_path / "out").read_text()
    section = text.split("What Keras costs against native tensorflow code", 1)[1].split("##", 1)[0]
    functional = next(line for line in section.splitlines() if line.startswith("| functional"))
    ratios = [float(cell.split("[")[0]) for cell in functional.split("|")[2:5]]
    assert all(1.2 < ratio < 1.3 for ratio in ratios), functional
    assert "| native " in text  # the native row in the cell table
    accuracy = keras_accuracy["extra_info"]["test_accuracy"]
    assert f"native {accuracy - 0.0125:.4f}, functional {accuracy:.4f} (-0.0125)" in section, (
        section
    )  # the native training loop's accuracy beside Functional's


def test_report_command_rejects_foreign_file(tmp_path):
    foreign = tmp_path / "foreign.json"
    foreign.write_text("[1, 2")
    result = subprocess.run(
        [sys.executable, "-m", "bench", "report", str(foreign), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error:") and "not valid JSON" in result.stderr


def test_rss_from_the_inheriting_probe_is_not_shown(tmp_path):
    old = json.loads(SAVED.read_text())
    for bench in old["benchmarks"]:
        bench["extra_info"].pop("rss_probe_version", None)  # as written before probe version 2
    text = build_report([write(tmp_path, "old.json", old)], tmp_path / "out").read_text()
    table = text.split("## `cnn` on tensorflow")[1].split("###")[0]
    assert "MiB RSS" not in table
    assert table.count("RSS n/a: this file's RSS is the parent process's") == 3


def test_api_by_backend_matrix(tmp_path):
    saved = json.loads(SAVED.read_text())
    on_jax = json.loads(SAVED.read_text())
    on_jax["machine_info"]["suite"]["backend"] = "jax"
    for bench in on_jax["benchmarks"]:
        bench["extra_info"]["backend"] = "jax"
        if bench["name"] == "test_train_throughput[cnn-functional]":
            bench["extra_info"]["batch"] *= 10  # ten times the images in the same time
    on_jax["benchmarks"] = [  # a cell the jax run did not time
        b for b in on_jax["benchmarks"] if not b["name"].endswith("_throughput[cnn-subclassing]")
    ]
    paths = [write(tmp_path, "tf.json", saved), write(tmp_path, "jax.json", on_jax)]
    text = build_report(paths, tmp_path / "out").read_text()
    assert "## `cnn` on jax" in text and "## `cnn` on tensorflow" in text
    matrix = text.split("## API × backend")[1].split("\n## ")[0]
    header = next(line for line in matrix.splitlines() if line.startswith("| cell"))
    assert "jax train / inference" in header and "tensorflow train / inference" in header
    rows = {
        cells[1].strip(): cells[2:4]
        for cells in (
            line.split("|") for line in matrix.splitlines() if line.startswith("| ") and line != header
        )
    }
    jax_train, tf_train = (float(cell.split("/")[0].replace(",", "")) for cell in rows["cnn-functional"])
    assert jax_train == pytest.approx(10 * tf_train, rel=0.01)
    assert rows["cnn-subclassing"][0].strip() == "n/a: not run on this backend"
    assert rows["cnn-subclassing"][1].strip() != "n/a: not run on this backend"
    assert "resnet-functional" not in rows  # an architecture no file measured is not listed
    assert "its own run" in matrix


def test_uncommitted_changes_are_named(tmp_path):
    dirty = json.loads(SAVED.read_text())
    dirty["machine_info"]["suite"].update(commit="abc123-dirty", changed_paths=["bench/run/steps.py"])
    text = build_report([write(tmp_path, "dirty.json", dirty)], tmp_path / "out").read_text()
    assert "abc123-dirty (uncommitted changes in bench/run/steps.py)" in text


@pytest.mark.parametrize("deterministic", [True, False])
def test_accuracy_gaps_count_only_between_deterministic_runs(tmp_path, deterministic):
    results = paired_results(5)
    for bench in results["benchmarks"]:
        if bench["name"].startswith("test_accuracy["):
            bench["extra_info"]["deterministic"] = deterministic
            if bench["param"] == "cnn-sequential":
                bench["extra_info"]["test_accuracy"] -= 0.05
    text = build_report([write(tmp_path, "acc.json", results)], tmp_path / "out").read_text()
    verdict = next(line for line in text.splitlines() if line.startswith("- **`cnn`: "))
    assert ("test accuracy 0.263 vs 0.312 on tensorflow" in verdict) is deterministic, verdict


def test_functional_figures_come_from_its_partner_rounds():
    """Each interior partner round over the mean of its neighbours: an A/A, pooled over the paired cells."""
    from bench.core import results as results_io

    results = partner_only_results(5)
    cells = [
        b
        for b in results["benchmarks"]
        if b["name"].startswith("test_train_throughput[cnn-") and "reference_round_s" in b["extra_info"]
    ]
    assert [b["params"]["api"] for b in cells] == ["sequential", "subclassing"]
    expected = np.concatenate(
        [
            np.asarray(p[1:-1]) / ((np.asarray(p[:-2]) + np.asarray(p[2:])) / 2)
            for p in (b["extra_info"]["reference_cpu_round_s"] for b in cells)
        ]
    )
    frame = results_io.frame(results)
    (row,) = frame[(frame["kind"] == "train_throughput") & (frame["api"] == "functional")].itertuples()
    assert row.extra["derived_from"] == ["cnn-sequential", "cnn-subclassing"]
    np.testing.assert_allclose(
        results_io.normalized_times(*results_io.timed_rounds(row.extra, row.data)), expected
    )
    wall = np.concatenate([b["extra_info"]["reference_round_s"][1:-1] for b in cells])
    assert row.extra["images_per_s"] == pytest.approx(cells[0]["extra_info"]["batch"] / np.median(wall))
    # a file that timed Functional as a cell of its own keeps that cell and gets nothing derived
    twin = results_io.frame(paired_results(5))
    assert not any("derived_from" in extra for extra in twin["extra"])


def test_summary_without_a_functional_cell(tmp_path):
    path = write(tmp_path, "partner-only.json", partner_only_results(3, {"cnn-subclassing": 1.10}))
    text = build_report([path], tmp_path / "out").read_text()
    summary = text.split("## Details")[0]
    assert (
        "The Functional row is Functional against itself: its rounds as the other cells' partner"
        in " ".join(summary.split())  # prose is wrapped
    )
    functional = _summary_row(summary, "cnn-functional")
    for cell in functional[1:4]:
        assert re.match(r"^A/A (0\.9[5-9]\d|1\.0[0-4]\d) \[\d\.\d{3}–\d\.\d{3}\] ", cell), cell
    assert all(re.search(r"\] (9|10|11)% slower$", c) for c in _summary_row(summary, "cnn-subclassing")[1:4])
    details = text.split("## `cnn` on tensorflow")[1]
    row = next(line for line in details.splitlines() if line.startswith("| functional"))
    assert "not measured" not in row.split("|")[3], row  # its train img/s, from the partner rounds


def test_an_arch_whose_cells_name_no_known_api_gets_no_verdict_and_the_report_builds(tmp_path):
    """A cell renamed by a careless tool (its params say arch 'x', api 'cnn'): the report is built, the other
    arch keeps its verdict, and 'x' gets none (there is no API to choose between)."""
    results = json.loads(SAVED.read_text())
    renamed = next(b for b in results["benchmarks"] if b["params"]["api"] == "functional")
    renamed["params"] = {"arch": "x", "api": renamed["params"]["arch"]}
    text = build_report([write(tmp_path, "renamed.json", results)], tmp_path / "out").read_text()
    answer = text.split("## Per backend")[0]
    assert "### `cnn`: " in answer and "### `x`" not in answer


def test_a_report_of_old_and_new_files_says_which_a_a_is_which(tmp_path):
    from bench.core import ratios
    from bench.core import results as results_io

    frames = [results_io.frame(partner_only_results(1)), results_io.frame(paired_results(1))]
    assert ratios.aa_basis(frames[0]).startswith("Functional against itself")
    assert ratios.aa_basis(frames[1]) == "Functional against an identical twin"
    mixed = ratios.aa_basis(pd.concat(frames, ignore_index=True))
    assert mixed.startswith("Functional against itself") and "identical twin in the files that" in mixed


def _slower_process(results: dict, factor: float) -> dict:
    """The same run in a process the host ran ``factor`` times slower throughout (model and partner)."""
    for bench in results["benchmarks"]:
        extra = bench["extra_info"]
        for field in ("cpu_round_s", "reference_cpu_round_s", "reference_round_s"):
            if field in extra:
                extra[field] = [t * factor for t in extra[field]]
        if "reference_round_s" in extra:
            bench["stats"]["data"] = [t * factor for t in bench["stats"]["data"]]
    return results


def test_repeated_runs_are_pooled_round_by_round_within_their_own_run(tmp_path):
    """Two runs of one cell: every round keeps its own run's partner rounds; the CI narrows."""
    from bench.core import ratios
    from bench.core import results as results_io

    runs = [
        partner_only_results(11, {"cnn-subclassing": 1.10}),
        partner_only_results(12, {"cnn-subclassing": 1.10}),
    ]
    runs[1] = _slower_process(runs[1], 1.3)
    paths = [write(tmp_path, f"run{i}.json", run) for i, run in enumerate(runs)]
    loaded = [results_io.load(path) for path in paths]
    frame, pooled_files = results_io.pool_repeats(loaded)
    assert pooled_files == {"tensorflow": ["run0.json", "run1.json"]}
    assert frame.groupby(["backend", "kind", "arch", "api", "id"]).size().max() == 1
    for api in ("subclassing", "functional"):  # a timed cell, and the Functional rows derived per run
        (row,) = frame[(frame["kind"] == "train_throughput") & (frame["id"] == f"cnn-{api}")].itertuples()
        assert row.extra["pooled_from"] == ["run0.json", "run1.json"]
        per_run = [
            ratios.normalized(r)
            for r in (
                f[(f["kind"] == "train_throughput") & (f["id"] == f"cnn-{api}")].iloc[0]
                for f in map(results_io.frame, loaded)
            )
        ]
        np.testing.assert_allclose(ratios.normalized(row), np.concatenate(per_run))
    pooled = ratios.to_functional(frame, "tensorflow", "cnn", "subclassing", "train_throughput")
    singles = [
        ratios.to_functional(results_io.frame(r), "tensorflow", "cnn", "subclassing", "train_throughput")
        for r in loaded
    ]
    assert 1.08 < pooled.ratio < 1.12 and pooled.half_width < min(s.half_width for s in singles)
    text = build_report(paths, tmp_path / "out").read_text()
    assert "Repeated runs pooled (tensorflow): run0.json + run1.json." in text.split("## Summary")[0]


def test_runs_from_different_machines_are_not_pooled(tmp_path):
    other = partner_only_results(12)
    other["machine_info"]["suite"]["cpu_model"] = "AMD EPYC 9R14"
    paths = [write(tmp_path, "intel.json", partner_only_results(11)), write(tmp_path, "amd.json", other)]
    result = subprocess.run(
        [sys.executable, "-m", "bench", "report", *map(str, paths), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "intel.json and amd.json both measure" in result.stderr and "differ in CPU model" in result.stderr
    assert not (tmp_path / "out" / "REPORT.md").exists()


def test_the_summary_states_the_run_s_precision_and_what_to_do_about_it(tmp_path):
    from bench.core import ratios
    from bench.core import results as results_io
    from bench.report.analysis import analyse
    from bench.report.decision import precision_lines

    tight = results_io.frame(partner_only_results(4))
    width = ratios.median_half_width(tight, "tensorflow", "train_throughput")
    assert 0 < width < 0.02 and analyse(tight).median_half_width("tensorflow", "train_throughput") == width
    assert precision_lines(analyse(tight), ["tensorflow"]) == [
        f"Precision: median CI half-width of the train-step ratios ±{width:.1%} (tensorflow), within ±2%.",
        "",
    ]
    noisy = partner_only_results(4)
    rng = np.random.default_rng(0)
    for bench in noisy["benchmarks"]:
        if "cpu_round_s" in bench["extra_info"]:
            bench["extra_info"]["cpu_round_s"] = [
                t * rng.lognormal(0, 0.12) for t in bench["extra_info"]["cpu_round_s"]
            ]
    *wrapped, _ = precision_lines(analyse(results_io.frame(noisy)), ["tensorflow"])
    line = " ".join(wrapped)
    assert "above ±2% on tensorflow: differences of a few percent there need another run" in line
    summary = build_report([write(tmp_path, "noisy.json", noisy)], tmp_path / "out").read_text()
    assert "\n".join(wrapped) in summary.split("## Details")[0]


def test_a_report_bootstraps_each_ratio_once(tmp_path, monkeypatch):
    """The analysis is computed once and shared: no renderer bootstraps the same rounds again."""
    from bench.core import ratios

    samples = []

    def counted(function):
        def wrapper(*arrays, **kwargs):
            samples.append((function.__name__, tuple(np.asarray(a).tobytes() for a in arrays)))
            return function(*arrays, **kwargs)

        return wrapper

    monkeypatch.setattr(ratios, "median_ci", counted(ratios.median_ci))
    monkeypatch.setattr(ratios, "compare_samples", counted(ratios.compare_samples))
    path = write(tmp_path, "paired.json", with_capabilities(paired_results(3, {"cnn-sequential": 1.1})))
    build_report([path], tmp_path / "out")
    assert len(samples) >= 9  # three APIs × three timed kinds at least
    assert len(set(samples)) == len(samples)


CPU = Path(__file__).resolve().parent.parent / "reports" / "cpu"
#: the committed report's files, in the order it was built from (README: reports/cpu)
COMMITTED = [CPU / f"results-{name}.json"
             for name in ("jax", "tensorflow", "torch")]  # fmt: skip


def test_the_committed_report_is_what_its_files_give_and_the_answer_fits_one_screen(tmp_path):
    """reports/cpu/REPORT.md is rebuilt from its results files; its answer ends within 60 lines, every line
    of them at most 160 characters, with a verdict and a capability table per architecture."""
    for gpu in (CPU.parent / "gpu").glob("*/REPORT.md"):  # the GPU reports the answer links, beside it
        (tmp_path / "gpu" / gpu.parent.name).mkdir(parents=True)
        (tmp_path / "gpu" / gpu.parent.name / "REPORT.md").write_text(gpu.read_text())
    text = build_report(COMMITTED, tmp_path / "cpu").read_text()
    committed = (COMMITTED[0].parent / "REPORT.md").read_text()
    assert text == committed  # the figures come from the files, nothing typed in
    lines = text.splitlines()
    end = lines.index("## Per backend, with confidence intervals")
    assert end <= 60 and max(len(line) for line in lines[:end]) <= 160
    answer = "\n".join(lines[:end])
    for arch in ("cnn", "resnet"):
        assert re.search(rf"### `{arch}`: (use [A-Z][a-z]+( subclass)?|tie: [A-Z].+ or [A-Z].+)\n\S", answer)
    assert answer.count("| API ") == 2 and answer.count("| capability ") == 2
    assert "✗" in answer and "✓" in answer


def test_a_settled_difference_is_named_in_the_answer_and_noise_is_not(tmp_path):
    answer = _summary(tmp_path, {"cnn-subclassing": 1.10}).split("## Per backend")[0]
    rows = {line.split("|")[1].strip(): line for line in answer.splitlines() if line.startswith("| ")}
    assert "10% slower (tf)" in rows["Subclassing"] or "9% slower (tf)" in rows["Subclassing"]
    assert "slower" not in rows["Sequential"] and "faster" not in rows["Sequential"]
    own = [cell.strip() for cell in rows["Functional"].split("|")[2:7]]  # its own medians, not ratios
    assert [cell.rsplit(" ", 1)[-1] for cell in own] == ["ms", "ms", "ms", "s", "MiB"], own


def _no(why: str = "ValueError: A total of 1 objects could not be loaded") -> str:
    return f"no: {why}"


def test_each_cross_in_the_answer_says_what_to_do_and_alike_rows_are_one():
    """A ✗ row carries its remedy; a row the remedies do not know carries its verdict's own reason, cut to
    the column's width; rows alike in every cell and remedy fold into one, rows alike in every API drop."""
    from bench.core.capability_names import REMEDIES, quantized_load_row
    from bench.report.answer import REMEDY_WIDTH, capability_table

    loads = [quantized_load_row(mode) for mode in ("int8", "int4")]
    unknown = "a capability no remedy names"
    long_reason = "RuntimeError: " + "x" * 100
    caps = {
        api: {
            **{row: "yes" if api != "subclassing" else _no() for row in loads},
            unknown: "yes" if api == "functional" else _no(long_reason),
            "clone_model": "yes",
        }
        for api in ("sequential", "functional", "subclassing")
    }
    table = capability_table({"tensorflow": caps})
    assert list(table.columns)[-1] == "where ✗ or ◐: why, what to do"
    rows = {row["capability"]: row for row in table.to_dict("records")}
    assert set(rows) == {"int8, int4 .keras load", unknown}  # clone_model: every API alike
    folded = rows["int8, int4 .keras load"]
    assert (folded["Sequential"], folded["Functional"], folded["Subclassing"]) == ("✓", "✓", "✗")
    assert folded["where ✗ or ◐: why, what to do"] == REMEDIES[loads[0]]
    said = rows[unknown]["where ✗ or ◐: why, what to do"]
    assert said.startswith("RuntimeError: xxx") and said.endswith("…") and len(said) == REMEDY_WIDTH


def test_the_report_states_the_compilation_in_effect_per_backend(tmp_path):
    """What `model.jit_compile` was after the first step, counted over the cells that recorded it."""
    results = paired_results(3, {})
    timed = [b for b in results["benchmarks"] if "jit" in b["extra_info"] or "throughput" in b["name"]]
    for bench in timed:
        bench["extra_info"]["jit"] = False
    timed[0]["extra_info"]["jit"] = True
    text = build_report([write(tmp_path, "paired.json", results)], tmp_path / "out").read_text()
    said = " ".join(text.split("Compilation in effect")[1].split("\n\n")[0].split())
    count = len(timed)
    assert f"XLA in 1 of {count} cells, tf.function without XLA in {count - 1} of {count}" in said


def test_no_committed_capability_cell_reads_not_installed():
    """reports/cpu was made with every probe's packages: a verdict that a package is missing is a defect."""
    for path in COMMITTED:
        for bench in json.loads(path.read_text())["benchmarks"]:
            for api, verdicts in bench["extra_info"].get("capabilities", {}).items():
                for row, verdict in verdicts.items():
                    assert "not installed" not in str(verdict), (path.name, api, row, verdict)


def test_none_in_this_architecture_is_not_a_missing_capability():
    """A model without skip connections says 'none in this architecture': nothing any API lacks."""
    from bench.report.drawbacks import verdict_class

    assert verdict_class("none in this architecture") is None and verdict_class("none found in the graph") is None
    assert verdict_class("no: ValueError") == 0 and verdict_class("native") == 2
