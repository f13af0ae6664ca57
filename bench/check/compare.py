"""The regression check: compare a results file against a baseline, robustly to machine noise.

Timing is judged on *normalized* round times: the process CPU time of each timed
round (single-threaded kernels in the ci profile) divided by the CPU time of the
native reference round run just before it (see :mod:`bench.run.reference` and
:func:`bench.core.results.normalized_times`).  Other processes on the machine do not
move CPU time; the host's slow spells move model and reference together and
cancel; a slower model — in the project's code or inside Keras — moves only the
numerator.  For each benchmark the check reports median(current) /
median(baseline) of the normalized times, a bootstrap 95% CI and a Mann-Whitney
p-value; one comparison regresses at 5% or more, the rounds of several pairs of runs
pooled (bench regress) at down to 3% as the pairs add up and agree (RULE_BY_PAIRS).  A change in the
framework's own kernels moves the reference too: the absolute CPU times of model and
reference are shown, a large move of both warns, and ``bench regress`` gates on the absolute
time of two benchmarks as well (:mod:`bench.check.framework_gate`).
Accuracy, with fixed seeds and deterministic ops, is compared only between runs on
the same CPU model (kernels differ between CPU models, and so do trained weights).

Exit status: 0 no regression, 1 regression, 2 unusable input.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from bench.check.resolution import resolution_line, resolutions
from bench.check.rule import (
    MAX_PAIRS,
    PAIR_SIGNIFICANCE,
    RULE_BY_PAIRS,
    SCREEN_THRESHOLD,
    SIGNIFICANCE,
)
from bench.core import escape
from bench.core import results as results_io
from bench.core.escape import markdown_table
from bench.core.kinds import TIMED_KINDS, WARN_ONLY_KINDS
from bench.core.results import ResultsError
from bench.core.stats import compare_samples, replicates_agree

ACCURACY_KIND = "accuracy"

ABSOLUTE_WARNING = 0.25  # absolute figures moving this much only warn
ACCURACY_TOLERANCE = 0.01  # absolute test-accuracy drop that counts as a regression

# Settings that must agree for two results files to be comparable.
CONFIG_KEYS = ("profile", "backend", "device_kind", "cpu_model", "dataset", "reference_version")
SETTING_KEYS = (
    "train_batch",
    "inference_batch",
    "jit",
    "mixed_precision",
    "deterministic",
    "seed",
    "epochs",
    "train_subset",
    "test_subset",
    "threads",
    "bn_recalibration_batches",
    "partner",
)
SETTING_DEFAULTS = {"partner": "reference"}  # files from before the setting existed

REGRESSION, IMPROVEMENT, NO_CHANGE, WARNING, NEW = "regression", "improvement", "no change", "warning", "new"
NOT_MEASURED = "not measured"


@dataclass
class Verdict:
    """One benchmark's verdict: the Markdown row's texts, and the timed ratio as a number."""

    benchmark: str
    statistic: str
    baseline: str
    current: str
    ratio: str
    p_value: str
    verdict: str
    note: str = ""
    #: current / baseline of the compared medians of a timed verdict, at the precision the row shows it
    #: (figures derived from it then match the table to the last digit); None for other kinds
    median_ratio: float | None = None
    #: its 95% CI, likewise (timed verdicts only)
    ci: tuple[float, float] | None = None
    #: how many pairs of runs the verdict stands on (pooled verdicts: more than one)
    pairs: int = 1


def check_comparable(baseline: dict, current: dict) -> None:
    """Raise ResultsError when the two runs were made with different configurations."""
    base_suite, cur_suite = baseline["machine_info"]["suite"], current["machine_info"]["suite"]
    problems = []
    for key in CONFIG_KEYS:
        if base_suite.get(key) != cur_suite.get(key):
            problems.append(f"{key} {base_suite.get(key)!r} vs {cur_suite.get(key)!r}")
    base_settings, cur_settings = base_suite.get("settings", {}), cur_suite.get("settings", {})
    for key in SETTING_KEYS:
        base_value, cur_value = (
            settings.get(key, SETTING_DEFAULTS.get(key)) for settings in (base_settings, cur_settings)
        )
        if base_value != cur_value:
            problems.append(f"{key} {base_value!r} vs {cur_value!r}")
    if problems:
        raise ResultsError(
            f"{current['_path']} was recorded with another configuration than the baseline "
            f"{baseline['_path']}: " + "; ".join(problems)
        )


def _normalized(row, path: str) -> np.ndarray:
    data, reference = results_io.timed_rounds(row.extra, row.data)
    if len(row.data) == 0 or len(data) == 0:
        raise ResultsError(f"{path}: {row.name} has no per-round data (run with python -m bench run)")
    if not results_io.reference_fits(data, reference):
        raise ResultsError(f"{path}: {row.name} has {len(data)} rounds but {len(reference)} reference rounds")
    return results_io.normalized_times(data, reference)


def _timing_rule(c, pairs: int = 1, agreement: float = 0.0) -> str:
    """The verdict on a comparison of normalized round times, of one pair of runs or of ``pairs`` pooled;
    pooled pairs must also agree: ``agreement`` is :func:`bench.core.stats.replicates_agree`'s p-value in the
    direction the ratio points (see RULE_BY_PAIRS)."""
    threshold, margin = RULE_BY_PAIRS[min(pairs, MAX_PAIRS)]
    agreed = pairs == 1 or agreement < PAIR_SIGNIFICANCE
    slower = agreed and c.low > 1 + margin and c.ratio >= 1 + threshold
    faster = agreed and c.high < 1 / (1 + margin) and c.ratio <= 1 / (1 + threshold)
    if slower and c.p_value < SIGNIFICANCE:
        return REGRESSION
    if faster and c.p_value < SIGNIFICANCE:
        return IMPROVEMENT
    return NO_CHANGE


def suspected_slowdowns(baseline: dict, current: dict, threshold: float = SCREEN_THRESHOLD) -> list[str]:
    """The timed benchmarks whose median normalized round is up by ``threshold`` or more in this comparison.

    One comparison cannot tell a slower model from a process that ran a few percent off, so a
    suspect is not a verdict: :mod:`bench.check.regress` measures it again and judges it on the pairs pooled.
    """
    check_comparable(baseline, current)
    base_rows = {row.name: row for row in results_io.frame(baseline).itertuples()}
    suspects = []
    for row in results_io.frame(current).itertuples():
        base_row = base_rows.get(row.name)
        if base_row is None or row.kind not in TIMED_KINDS:
            continue
        ratio = np.median(_normalized(row, current["_path"])) / np.median(
            _normalized(base_row, baseline["_path"])
        )
        if ratio >= 1 + threshold:
            suspects.append(row.name)
    return suspects


def pooled_timed_verdicts(baselines: list[dict], currents: list[dict], names: list[str]) -> list[Verdict]:
    """Verdicts on the rounds of several runs per side pooled, each round normalized within its own run.

    Every run carries an offset of its own; pooling the rounds of two runs per side halves
    the weight of any one run's offset in the medians compared.
    """
    for other in baselines[1:] + currents:
        check_comparable(baselines[0], other)
    rows = [
        {row.name: row for row in results_io.frame(results).itertuples()} for results in baselines + currents
    ]
    paths = [results["_path"] for results in baselines + currents]
    verdicts = []
    for name in names:
        missing = [path for path, by_name in zip(paths, rows, strict=True) if name not in by_name]
        if missing:
            raise ResultsError(f"{missing[0]} lacks {name}")
        pooled = [_normalized(by_name[name], path) for path, by_name in zip(paths, rows, strict=True)]
        base_norm = np.concatenate(pooled[: len(baselines)])
        cur_norm = np.concatenate(pooled[len(baselines) :])
        c = compare_samples(cur_norm, base_norm)
        pairs = zip(pooled[: len(baselines)], pooled[len(baselines) :], strict=True)
        pair_ratios = [float(np.median(cur) / np.median(base)) for base, cur in pairs]
        agree = replicates_agree(pair_ratios, slower=c.ratio > 1)
        verdicts.append(
            Verdict(
                name,
                f"normalized rounds of {len(baselines)} baseline and {len(currents)} checkout runs, pooled",
                f"{np.median(base_norm):.4f}",
                f"{np.median(cur_norm):.4f}",
                f"{c.ratio:.3f} [{c.low:.3f}–{c.high:.3f}]",
                f"{c.p_value:.2g}",
                _timing_rule(c, len(pair_ratios), agree),
                "per run, current/baseline median: "
                + ", ".join(f"{ratio:.3f}" for ratio in pair_ratios)
                + f"; pairs agree (t-test, one-sided): p {agree:.2g}",
                round(c.ratio, 3),
                (round(c.low, 3), round(c.high, 3)),
                len(pair_ratios),
            )
        )
    return verdicts


def median_ratio(verdict: Verdict) -> float:
    """current / baseline of the medians compared in a timed verdict."""
    if verdict.median_ratio is None:
        raise ValueError(f"{verdict.benchmark}: not a timed verdict ({verdict.statistic or verdict.verdict})")
    return verdict.median_ratio


def undecided(verdicts: list[Verdict]) -> list[str]:
    """The pooled timed verdicts still open: not a regression, yet at or above the screen threshold."""
    return [v.benchmark for v in verdicts
            if v.verdict != REGRESSION and median_ratio(v) >= 1 + SCREEN_THRESHOLD]  # fmt: skip


def confirm_suspects(first_pair: tuple[dict, dict], suspects: list[str], next_pair) -> list[Verdict]:
    """The verdicts on ``suspects`` after confirming pairs: each judged on all its pairs pooled.

    ``next_pair(number, names)`` measures (or loads) pair ``number`` (2, 3, ...) of ``names`` and
    returns its (baseline, current) results, or None where no such pair exists.  After each pair
    the suspects still :func:`undecided` are measured again, up to :data:`MAX_PAIRS` pairs; one
    verdict per suspect, in order.
    """
    baselines, currents = [first_pair[0]], [first_pair[1]]
    final: dict[str, Verdict] = {}
    pending = list(suspects)
    for number in range(2, MAX_PAIRS + 1):
        pair = next_pair(number, pending)
        if pair is None:
            break
        baselines.append(pair[0])
        currents.append(pair[1])
        verdicts = pooled_timed_verdicts(baselines, currents, pending)
        final.update({v.benchmark: v for v in verdicts})
        pending = undecided(verdicts)
        if not pending:
            break
    return [final[name] for name in suspects]


def _timed_verdict(base_row, cur_row, base_path, cur_path) -> Verdict:
    if results_io.timing_basis(base_row.extra) != results_io.timing_basis(cur_row.extra):
        raise ResultsError(
            f"{cur_path}: {cur_row.name} was timed as {results_io.timing_basis(cur_row.extra)}, "
            f"the baseline as {results_io.timing_basis(base_row.extra)}: refresh the baseline"
        )
    base_norm, cur_norm = _normalized(base_row, base_path), _normalized(cur_row, cur_path)
    c = compare_samples(cur_norm, base_norm)
    verdict = _timing_rule(c)
    (base_model, base_ref), (cur_model, cur_ref) = (
        results_io.timed_rounds(base_row.extra, base_row.data),
        results_io.timed_rounds(cur_row.extra, cur_row.data),
    )
    model_moved = float(np.median(cur_model) / np.median(base_model))
    reference_moved = float(np.median(cur_ref) / np.median(base_ref))
    batch = base_row.extra.get("batch", 1)
    base_abs = batch / float(np.median(base_row.data))
    cur_abs = batch / float(np.median(cur_row.data))
    partner = base_row.extra.get("reference", "native-cnn")
    note = (
        f"wall {base_abs:,.0f} → {cur_abs:,.0f} img/s; absolute time ×{model_moved:.2f}, "
        f"{partner} ×{reference_moved:.2f}"
    )
    if abs(reference_moved - 1) > ABSOLUTE_WARNING and abs(model_moved - 1) > ABSOLUTE_WARNING:
        note += (
            f" (warning: model and {partner} moved together: the framework's own kernels"
            " changed, or the host ran at another speed)"
        )
    elif abs(reference_moved - 1) > ABSOLUTE_WARNING:
        # a framework change that falls on the reference more than on the model: the normalized ratio
        # then reads the reference's change as the model's (reports/evidence/releases: oneDNN off)
        note += (
            f" (warning: {partner} moved and the model not as much: the framework's own kernels changed"
            " under the reference, or the host ran at another speed; this ratio is the reference's change"
            " as much as the model's, the absolute time is the model's own)"
        )
    if partner != "native-cnn":
        note += (
            f"; paired with the Keras model {partner}: a slowdown shared by every API cancels "
            "(the ci profile pairs with the native reference)"
        )
    return Verdict(
        base_row.name,
        f"{results_io.timing_basis(base_row.extra)} / {partner} round, median ratio "
        "(bootstrap CI; Mann-Whitney)",
        f"{np.median(base_norm):.4f}",
        f"{np.median(cur_norm):.4f}",
        f"{c.ratio:.3f} [{c.low:.3f}–{c.high:.3f}]",
        f"{c.p_value:.2g}",
        verdict,
        note,
        round(c.ratio, 3),
        (round(c.low, 3), round(c.high, 3)),
    )


def _accuracy_verdict(base_row, cur_row) -> Verdict:
    base_acc, cur_acc = base_row.extra["test_accuracy"], cur_row.extra["test_accuracy"]
    delta = cur_acc - base_acc
    if delta < -ACCURACY_TOLERANCE:
        verdict = REGRESSION
    elif delta > ACCURACY_TOLERANCE:
        verdict = IMPROVEMENT
    else:
        verdict = NO_CHANGE
    return Verdict(
        base_row.name,
        f"test accuracy, absolute tolerance {ACCURACY_TOLERANCE}",
        f"{base_acc:.4f}",
        f"{cur_acc:.4f}",
        f"{delta:+.4f}",
        "",
        verdict,
        "fixed seeds" + (", deterministic ops" if cur_row.extra.get("deterministic") else ""),
    )


def _first_step_verdict(base_row, cur_row) -> Verdict:
    base_s = float(np.median(base_row.extra["first_step_s"]))
    cur_s = float(np.median(cur_row.extra["first_step_s"]))
    ratio = cur_s / base_s
    verdict = WARNING if abs(ratio - 1) > ABSOLUTE_WARNING else NO_CHANGE
    return Verdict(
        base_row.name,
        "time to first step, absolute (warns only)",
        f"{base_s:.2f} s",
        f"{cur_s:.2f} s",
        f"{ratio:.3f}",
        "",
        verdict,
        _rss_note(base_row.extra, cur_row.extra),
    )


def _rss_note(base_extra: dict, cur_extra: dict) -> str:
    (base_rss, base_why), (cur_rss, cur_why) = (
        results_io.rss_growth(base_extra),
        results_io.rss_growth(cur_extra),
    )
    if base_rss is None or cur_rss is None:
        return "peak RSS not compared: " + (base_why or cur_why)
    return f"peak RSS growth {base_rss / 2**20:,.0f} → {cur_rss / 2**20:,.0f} MiB"


def benchmark_kinds(results: dict) -> dict[str, str]:
    """benchmark name -> its kind (train_throughput, accuracy, ...) in one run."""
    return {row.name: row.kind for row in results_io.frame(results).itertuples()}


def untimed_regressions(verdicts: list[Verdict], kinds: dict[str, str]) -> list[str]:
    """The benchmarks judged a regression from one pair alone: those not timed (accuracy), which repeat
    exactly; timed ones are only suspects until confirmed (:func:`confirm_suspects`)."""
    untimed = [v for v in verdicts if kinds.get(v.benchmark) not in TIMED_KINDS]
    return [v.benchmark for v in untimed if v.verdict == REGRESSION]


def compare(baseline: dict, current: dict) -> list[Verdict]:
    """One verdict per benchmark of the baseline; ResultsError when the current run lacks any."""
    check_comparable(baseline, current)
    base_frame, cur_frame = results_io.frame(baseline), results_io.frame(current)
    cur_by_name = {row.name: row for row in cur_frame.itertuples()}
    missing = [name for name in base_frame["name"] if name not in cur_by_name]
    interrupted = current["machine_info"]["suite"].get("interrupted")
    if missing and not interrupted:
        raise ResultsError(
            f"{current['_path']} lacks {len(missing)} benchmark(s) the baseline has, e.g. {missing[0]}"
        )
    verdicts = []
    for base_row in base_frame.itertuples():
        cur_row = cur_by_name.get(base_row.name)
        if cur_row is None:
            verdicts.append(
                Verdict(base_row.name, "", "", "", "", "", NOT_MEASURED, f"partial run: {interrupted}")
            )
            continue
        if base_row.kind in TIMED_KINDS:
            verdicts.append(_timed_verdict(base_row, cur_row, baseline["_path"], current["_path"]))
        elif base_row.kind == ACCURACY_KIND:
            verdicts.append(_accuracy_verdict(base_row, cur_row))
        elif base_row.kind in WARN_ONLY_KINDS:
            verdicts.append(_first_step_verdict(base_row, cur_row))
    base_names = set(base_frame["name"])
    for row in cur_frame.itertuples():
        if row.name not in base_names:
            verdicts.append(Verdict(row.name, "", "", "", "", "", NEW, "not in the baseline"))
    return verdicts


def markdown(verdicts: list[Verdict]) -> str:
    hidden = ("median_ratio", "ci", "pairs")  # numbers behind the row's texts
    shown = [{k: v for k, v in vars(verdict).items() if k not in hidden} for verdict in verdicts]
    return markdown_table(pd.DataFrame(shown))


def compare_files(
    baseline_path: str | Path, current_path: str | Path, *, markdown_out: str | None = None
) -> int:
    """Compare two results files, print the Markdown table; return the exit status (0, 1; 2 raises)."""
    baseline, current = results_io.load(baseline_path), results_io.load(current_path)
    return print_verdicts(compare(baseline, current), current, markdown_out=markdown_out)


def print_verdicts(verdicts: list[Verdict], current: dict, *, markdown_out: str | None = None) -> int:
    """Print the Markdown table and its summary (also to ``markdown_out``); return the exit status (0, 1)."""
    text = markdown(verdicts)
    regressions = [v for v in verdicts if v.verdict == REGRESSION]
    summary = (
        f"{len(regressions)} regression(s): " + ", ".join(escape.markdown(v.benchmark) for v in regressions)
        if regressions
        else f"no regression in {len(verdicts)} benchmarks"
    )
    timed_only = [v for v in verdicts if v.ci is not None and v.pairs == 1]
    if timed_only:  # a first pair's verdicts (not pooled ones): what this run could have seen
        cpu_model = current["machine_info"]["suite"].get("cpu_model")
        summary += "; " + resolution_line(resolutions(timed_only, benchmark_kinds(current), cpu_model))
    partial = current["machine_info"]["suite"].get("interrupted")
    if partial:
        unmeasured = sum(v.verdict == NOT_MEASURED for v in verdicts)
        summary += (
            f"\npartial results: the current run was interrupted ({escape.markdown(partial)}); "
            f"{unmeasured} unmeasured"
        )
    print(text)
    print()
    print(summary)
    if markdown_out:
        Path(markdown_out).parent.mkdir(parents=True, exist_ok=True)
        Path(markdown_out).write_text(text + "\n\n" + summary + "\n", encoding="utf-8")
    sys.stdout.flush()
    return 1 if regressions else 0
