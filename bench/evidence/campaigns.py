"""Evidence for the regression check: A/A pairs and planted slowdowns, rerun on demand.

``python -m bench.evidence.campaigns run --out reports/evidence`` makes, for each of
REPETITIONS repetitions, three baseline runs and as many runs per variant below (and a fourth
pair where the check asks for one)
(all with the ci profile on ``cnn-functional``'s train, inference and batch-1 benchmarks),
pair after pair, two at a time: with one variant each pair runs side by side, as in
``bench regress``.  Every results file is kept under ``runs/``; ``summarize`` judges each
trial as ``bench regress`` does (a suspect in the first pair,
:func:`bench.check.compare.suspected_slowdowns`, confirmed on the pairs pooled by
:func:`bench.check.compare.confirm_suspects`, which stops at two pairs unless they leave it
undecided) and writes EVIDENCE.md and evidence.json.
The slowdowns are planted by bench/suite/planted.py, never by the product: inside
Keras (``Conv2D.call`` does extra work, output unchanged) and in the project's own
train step.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from bench.check import framework_gate, stopping
from bench.check.compare import (
    REGRESSION,
    Verdict,
    compare,
    confirm_suspects,
    median_ratio,
    suspected_slowdowns,
)
from bench.check.rule import MAX_PAIRS, PAIR_SIGNIFICANCE, RULE_BY_PAIRS, SCREEN_THRESHOLD, SIGNIFICANCE
from bench.core.kinds import GATE_TARGET, TIMED_KINDS, pair_suffix
from bench.core.pairs import observed_ratio, raw_ratio
from bench.core.paths import PROJECT_ROOT as ROOT
from bench.core.results import ResultsError, load
from bench.evidence.archive import present, stored

SELECTION = f"{GATE_TARGET} and (train or inference or latency)"
REPETITIONS = 10
BASELINE = "baseline"

#: variant name -> (environment that plants it, what it is)
VARIANTS: dict[str, tuple[dict[str, str], str]] = {
    "a-a": ({}, "A/A: the same code again"),
    "keras-12-rows": (
        {"PLANTED_KERAS_SLOWDOWN": str(12 / 28)},
        "inside Keras: every Conv2D.call also convolves 12 of 28 input rows (~40%)",
    ),
    "keras-2-rows": (
        {"PLANTED_KERAS_SLOWDOWN": str(2 / 28)},
        "inside Keras: every Conv2D.call also convolves 2 of 28 input rows (~7%)",
    ),
    "keras-5pct": (
        {"PLANTED_KERAS_SLOWDOWN": "0.05"},
        "inside Keras: every Conv2D.call also convolves 5% of its input's pixels (5% more convolution work)",
    ),
    "keras-5pct-block": (
        {"PLANTED_KERAS_SLOWDOWN": "0.05", "PLANTED_KERAS_BLOCK": "1"},
        "inside Keras: every Conv2D.call also convolves 5% of its input's pixels as one block (2 rows of 20"
        " columns on a 28x28 input: one more convolution call)",
    ),
    "keras-4pct-block": (
        {"PLANTED_KERAS_SLOWDOWN": "0.04", "PLANTED_KERAS_BLOCK": "1"},
        "inside Keras: every Conv2D.call also convolves 4% of its input's pixels as one block (2 rows of 16"
        " columns on a 28x28 input: one more convolution call)",
    ),
    "keras-predict-100us": (
        {"PLANTED_KERAS_PREDICT_OVERHEAD_US": "100"},
        "inside Keras: Model.predict_on_batch spends 100 µs more CPU time per call (Python overhead, not"
        " kernels; ~5% of a batch-1 predict here)",
    ),
    "keras-predict-70us": (
        {"PLANTED_KERAS_PREDICT_OVERHEAD_US": "70"},
        "inside Keras: Model.predict_on_batch spends 70 µs more CPU time per call (Python overhead, not"
        " kernels; ~3.5% of a batch-1 predict here)",
    ),
    "keras-row-and-pixel": (
        {"PLANTED_KERAS_SLOWDOWN": str(29 / 784)},
        "inside Keras: every Conv2D.call also convolves 1 input row and 1 pixel (two more convolution calls)",
    ),
    "keras-1-row": (
        {"PLANTED_KERAS_SLOWDOWN": str(1 / 28)},
        "inside Keras: every Conv2D.call also convolves 1 of 28 input rows (~3.5%)",
    ),
    "tf-conv-10pct": (
        {"PLANTED_TF_CONV_SLOWDOWN": "0.1"},
        "below Keras, in TensorFlow: tf.nn.convolution and tf.nn.conv2d also convolve 10% of their input's"
        " pixels, so the models and the native reference slow down alike",
    ),
    "tf-conv-8pct": (
        {"PLANTED_TF_CONV_SLOWDOWN": "0.08"},
        "below Keras, in TensorFlow: tf.nn.convolution and tf.nn.conv2d also convolve 8% of their input's"
        " pixels, so the models and the native reference slow down alike",
    ),
    "tf-conv-7pct": (
        {"PLANTED_TF_CONV_SLOWDOWN": "0.07"},
        "below Keras, in TensorFlow: tf.nn.convolution and tf.nn.conv2d also convolve 7% of their input's"
        " pixels, so the models and the native reference slow down alike",
    ),
    "tf-conv-5pct": (
        {"PLANTED_TF_CONV_SLOWDOWN": "0.05"},
        "below Keras, in TensorFlow: tf.nn.convolution and tf.nn.conv2d also convolve 5% of their input's"
        " pixels, so the models and the native reference slow down alike",
    ),
    "project-5pct": (
        {"PLANTED_SLOWDOWN": f"{GATE_TARGET}:0.05"},
        "in the project's train step: extra forward passes worth ~5% of the step (train only)",
    ),
    "project-8pct": (
        {"PLANTED_SLOWDOWN": f"{GATE_TARGET}:0.08"},
        "in the project's train step: extra forward passes worth ~8% of the step (train only)",
    ),
}


def _run_one(out: Path, planted: dict[str, str], selection: str = SELECTION) -> tuple[Path, int]:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **planted}
    env.pop("BENCH_PROFILE", None)
    command = [sys.executable, "-m", "bench", "run", "--profile", "ci", "--out", str(out), "-k", selection,
               "--", "-p", "bench.suite.planted", "-q"]  # fmt: skip
    completed = stopping.run(command, capture=True, cwd=ROOT, env=env)  # stopped with the campaign
    if completed.returncode != 0:
        sys.stderr.write(completed.stdout[-2000:] + completed.stderr[-2000:])
    return out, completed.returncode


AGAIN = pair_suffix(2)  # the second run of a name in a repetition: the check's confirming pair


#: pairs every trial of a campaign gets; a further pair, up to MAX_PAIRS, only where the check asks for it
ALWAYS_PAIRS = 3


def _run_tasks(runs: Path, tasks: list[tuple[int, str]], workers: int) -> None:
    with ThreadPoolExecutor(workers) as pool:
        jobs = [
            pool.submit(
                _run_one,
                runs / f"{name}-{repetition}.json",
                {} if variant_of(name) == BASELINE else VARIANTS[variant_of(name)][0],
            )
            for repetition, name in tasks
            if not (runs / f"{name}-{repetition}.json").is_file()
        ]
        for job in jobs:
            path, status = job.result()
            print(f"{path.name}: exit {status}", flush=True)


def run_campaign(out_dir: Path, repetitions: int, variants: list[str], workers: int, seed: int = 0) -> None:
    """Per repetition, ALWAYS_PAIRS times: the baseline and every variant (shuffled), the baseline first in
    odd pairs and last in even ones, ``workers`` at a time.  With one variant and two workers, each pair
    runs side by side, as in ``bench regress``.  Then, pair after pair up to MAX_PAIRS, a further pair
    for the trials in which the check asks for one (:func:`_asks_for_more`)."""
    runs = out_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    order = random.Random(seed)

    def pair_tasks(number: int, repetition: int, names: list[str]) -> list[tuple[int, str]]:
        shuffled = list(names)
        order.shuffle(shuffled)
        ordered = [*shuffled, BASELINE] if number % 2 == 0 else [BASELINE, *shuffled]
        return [(repetition, name + pair_suffix(number)) for name in ordered]

    _run_tasks(runs, [task for repetition in range(repetitions) for number in range(1, ALWAYS_PAIRS + 1)
                      for task in pair_tasks(number, repetition, variants)], workers)  # fmt: skip
    for number in range(ALWAYS_PAIRS + 1, MAX_PAIRS + 1):
        tasks = []
        for repetition in range(repetitions):
            asking = [name for name in variants if asks_for_more(trial(runs, name, repetition) or [])]
            if asking:
                tasks += pair_tasks(number, repetition, asking)
        _run_tasks(runs, tasks, workers)


def variant_of(run_name: str) -> str:
    """The variant (or the baseline) a run name of a repetition measures."""
    return run_name.split(AGAIN)[0]


ACCURACY_ARCHS = ("cnn", "resnet")


def run_accuracy_campaign(out_dir: Path) -> None:
    """Per architecture: the functional cell's accuracy run twice as is and once with a planted drop."""
    runs = out_dir / "accuracy"
    runs.mkdir(parents=True, exist_ok=True)
    for arch in ACCURACY_ARCHS:
        selection = f"accuracy and {arch}-functional"
        for name, planted in (
            ("base", {}),
            ("same", {}),
            ("drop", {"PLANTED_ACCURACY_DROP": f"{arch}-functional"}),
        ):
            target = runs / f"{arch}-{name}.json"
            if not target.is_file():
                print(f"{target.name}: exit {_run_one(target, planted, selection)[1]}", flush=True)


def accuracy_figures(out_dir: Path) -> dict:
    figures = {}
    for arch in ACCURACY_ARCHS:
        paths = {name: stored(out_dir / "accuracy") / f"{arch}-{name}.json" for name in ("base", "same", "drop")}
        if not all(p.is_file() for p in paths.values()):
            continue
        loaded = {name: load(p) for name, p in paths.items()}
        accuracy = {name: r["benchmarks"][0]["extra_info"]["test_accuracy"] for name, r in loaded.items()}
        bench = loaded["base"]["benchmarks"][0]["name"]
        verdict = {name: {v.benchmark: v.verdict for v in compare(loaded["base"], loaded[name])}[bench]
                   for name in ("same", "drop")}  # fmt: skip
        figures[arch] = {
            "test_accuracy": accuracy,
            "same_code_repeats_exactly": accuracy["base"] == accuracy["same"]
            and verdict["same"] != REGRESSION,
            "planted_drop_flagged": verdict["drop"] == REGRESSION,
        }
    return figures


def trial(runs: Path, name: str, repetition: int) -> list[tuple[dict, dict]] | None:
    """The (baseline, variant) pairs of one trial of the check, in order (at least two), or None."""
    runs = stored(runs)  # a packed campaign's runs.zip
    pairs = []
    for number in range(1, MAX_PAIRS + 1):
        paths = (
            runs / f"{BASELINE}{pair_suffix(number)}-{repetition}.json",
            runs / f"{name}{pair_suffix(number)}-{repetition}.json",
        )
        if not all(path.is_file() for path in paths):
            break
        pairs.append((load(paths[0]), load(paths[1])))
    return pairs if len(pairs) >= 2 else None


def stored_trials(runs: Path, name: str) -> list[list[tuple[dict, dict]]]:
    """Every stored trial of variant ``name`` in a campaign's ``runs`` folder (see :func:`_trial`)."""
    return [t for t in (trial(runs, name, r) for r in range(REPETITIONS * 10)) if t is not None]


def _judge(pairs: list[tuple[dict, dict]], bench: str) -> tuple[Verdict, int, bool]:
    """The check's verdict on ``bench`` from a trial's stored pairs, how many pairs it used, and whether it
    asked for one more than were stored."""
    used, asked = [1], [False]

    def stored_pair(number: int, names: list[str]) -> tuple[dict, dict] | None:
        if number > len(pairs):
            asked[0] = True
            return None
        used.append(number)
        return pairs[number - 1]

    (verdict,) = confirm_suspects(pairs[0], [bench], stored_pair)
    return verdict, used[-1], asked[0]


def asks_for_more(pairs: list[tuple[dict, dict]]) -> bool:
    """Whether the check, judging a trial's stored pairs, would measure one more pair for any kind."""
    if len(pairs) < 2:
        return False
    suspects = [f"test_{kind}[{GATE_TARGET}]" for kind in TIMED_KINDS]
    suspects = [bench for bench in suspects if bench in suspected_slowdowns(*pairs[0])]
    return any(_judge(pairs, bench)[2] for bench in suspects)


def _kind_figures(trials: list[list[tuple[dict, dict]]], bench: str) -> dict:
    flagged, confirmed, pairs_used, observed, observed_pooled, raw = 0, 0, [], [], [], []
    for pairs in trials:
        first = {v.benchmark: v.verdict for v in compare(*pairs[0])}.get(bench)
        flagged += first == REGRESSION
        pooled, used, _ = _judge(pairs, bench)
        suspect = bench in suspected_slowdowns(*pairs[0])
        confirmed += suspect and pooled.verdict == REGRESSION
        pairs_used.append(used if suspect else 1)
        observed.append(observed_ratio(pairs[0], bench))
        observed_pooled.append(median_ratio(pooled))
        raw.append(raw_ratio(pairs[0], bench))
    return {
        "flagged_first_pair": flagged,
        "flagged": confirmed,
        "pairs": len(trials),
        "pairs_measured": pairs_used,
        "observed_ratio_median": round(float(np.median(observed)), 4),
        "observed_ratio_range": [round(min(observed), 4), round(max(observed), 4)],
        "pooled_ratio_range": [round(min(observed_pooled), 4), round(max(observed_pooled), 4)],
        "raw_ratio_median": round(float(np.median(raw)), 4),
        "raw_ratio_range": [round(min(raw), 4), round(max(raw), 4)],
    }


def _gate_figures(trials: list[list[tuple[dict, dict]]]) -> dict:
    """The absolute-CPU-time gate (:mod:`bench.check.framework_gate`) on each trial (its first pair, and the
    second where the first makes a suspect), at the committed calibration of the campaign's CPU model."""
    calibration = framework_gate.load_calibration()
    gates = [framework_gate.judge(pairs, calibration) for pairs in trials]
    indices = [gate.indices[0] for gate in gates if gate.indices]
    return {
        "flagged": sum(gate.verdict == framework_gate.REGRESSION for gate in gates),
        "trials": len(gates),
        "gated": all(gate.verdict != framework_gate.NOT_GATED for gate in gates),
        "threshold": gates[0].threshold,
        "index_median": round(float(np.median(indices)), 4) if indices else None,
        "index_range": [round(min(indices), 4), round(max(indices), 4)] if indices else None,
    }


def summarize(out_dir: Path) -> dict:
    runs = stored(out_dir / "runs")
    figures: dict = {}
    pairs_per_trial = 0
    for name, (_, description) in VARIANTS.items():
        trials = stored_trials(runs, name)
        if not trials:
            continue
        pairs_per_trial = max(pairs_per_trial, *(len(pairs) for pairs in trials))
        figures[name] = {
            "description": description,
            "kinds": {kind: _kind_figures(trials, f"test_{kind}[{GATE_TARGET}]") for kind in TIMED_KINDS},
            "absolute_time_gate": _gate_figures(trials),
        }
    cpu = {load(p)["machine_info"]["suite"]["cpu_model"] for p in sorted(runs.glob("*.json"))}
    evidence = {
        "target": GATE_TARGET,
        "profile": "ci",
        "cpu_models": sorted(cpu),
        "pairs_per_trial": pairs_per_trial,
        "rule": {
            "threshold_and_ci_margin_by_pairs": RULE_BY_PAIRS,
            "significance": SIGNIFICANCE,
            "pair_significance": PAIR_SIGNIFICANCE,
            "screen": SCREEN_THRESHOLD,
            "max_pairs": MAX_PAIRS,
        },
        "variants": figures,
        "accuracy": accuracy_figures(out_dir),
    }
    (out_dir / "evidence.json").write_text(json.dumps(evidence, indent=2) + "\n", encoding="utf-8")
    (out_dir / "EVIDENCE.md").write_text(_markdown(evidence), encoding="utf-8")
    return evidence


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _run_order(evidence: dict) -> str:
    """How the runs of the campaign met.  With run_campaign's two workers, a one-variant campaign's tasks
    go baseline, variant, variant again, baseline again, so each pair starts together."""
    if len(evidence["variants"]) == 1:
        stored = evidence.get("pairs_per_trial", 2)
        third = ", then a third pair" if stored > 2 else ""
        fourth = ", and a fourth where the check asked for it" if stored > 3 else ""
        return (
            "Per repetition the baseline and the variant ran side by side (started together, one per\n"
            f"core), then the variant and the baseline again{third}{fourth}: each pair as `bench regress`"
            " runs it."
        )
    return (
        "Per repetition the runs went baseline, variants, variants again, baseline again (variants\n"
        "shuffled), two at a time, while the machine also ran other work."
    )


def _markdown(evidence: dict) -> str:
    rule = evidence["rule"]
    screen = f"{rule['screen']:.0%}"
    steps = ", ".join(
        f"{threshold:.0%} (margin {margin:g}) on {pairs} pair{'s' if int(pairs) > 1 else ''}"
        for pairs, (threshold, margin) in rule["threshold_and_ci_margin_by_pairs"].items()
    )
    lines = [
        "# Regression-check evidence",
        "",
        f"ci profile, `{evidence['target']}`, CPU: {', '.join(evidence['cpu_models'])}. Each trial is what",
        f"`bench regress` does: a baseline run and a variant run compared; where the variant is {screen} or",
        "more slower, a second pair, and the regression rule applied to the rounds of the pairs pooled;",
        f"while that leaves it {screen} or more slower and not a regression, one more pair, up to",
        f"{rule['max_pairs']} ('the check'; a trial stops at the pairs stored). The rule: the median",
        f"normalized round up by {steps}, its 95% CI above 1 + the margin, Mann-Whitney",
        f"p < {rule['significance']:g} and, on pooled pairs, the per-pair ratios agreeing (one-sided t-test",
        f"p < {rule['pair_significance']:g}).",
        "'first pair alone': the rule for one comparison (`bench compare`) on the first pair only.",
        "'more pairs': trials in which the check measured a third pair (a fourth).",
        _run_order(evidence),
        "'observed' is current/baseline of the median normalized round (CPU time / native reference) in",
        "the first pair, median and range over the trials; 'pooled' the same over the pairs the check used;",
        "'raw' the first pair's current/baseline of the median model CPU time, not divided by the reference",
        "(a change in the framework's own kernels shows there; the absolute-time gate below judges it).",
        "",
        "| variant | what | benchmark kind | flagged by the check | first pair alone | more pairs | observed "
        "slowdown (median, range) | pooled (range) | raw (median, range) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, figures in evidence["variants"].items():
        for kind, k in figures["kinds"].items():
            more = sum(used >= 3 for used in k["pairs_measured"])
            third = (f"{more}/{k['pairs']} ({k['pairs_measured'].count(4)})"
                     if evidence["pairs_per_trial"] >= 3 else "not stored")  # fmt: skip
            low, high = k["observed_ratio_range"]
            pooled_low, pooled_high = k["pooled_ratio_range"]
            raw_low, raw_high = k["raw_ratio_range"]
            raw = f"×{k['raw_ratio_median']:.3f} ({raw_low:.3f}–{raw_high:.3f})"
            lines.append(
                f"| {name} | {figures['description']} | {kind} | {k['flagged']}/{k['pairs']} | "
                f"{k['flagged_first_pair']}/{k['pairs']} | {third} | "
                f"×{k['observed_ratio_median']:.3f} "
                f"({low:.3f}–{high:.3f}) | {pooled_low:.3f}–{pooled_high:.3f} | {raw} |"
            )
    lines += _gate_markdown(evidence)
    lines += [
        "",
        "| planted accuracy drop (learning rate / 100) | test accuracy: base, same code again, planted | "
        "same code repeats exactly | drop flagged |",
        "|---|---|---|---|",
    ]
    for arch, acc in evidence["accuracy"].items():
        a = acc["test_accuracy"]
        lines.append(
            f"| {arch}-functional | {a['base']:.4f}, {a['same']:.4f}, {a['drop']:.4f} | "
            f"{_yes(acc['same_code_repeats_exactly'])} | {_yes(acc['planted_drop_flagged'])} |"
        )
    return "\n".join(lines) + "\n"


def _gate_markdown(evidence: dict) -> list[str]:
    lines = [
        "",
        "The absolute-CPU-time gate (`bench.check.framework_gate`, for slower framework kernels, which the",
        "normalized check cancels): 'index' is the geometric mean of the first pair's raw ratios of the",
        "train step and the batched predict; a trial is flagged when its first two pairs both reach the",
        "threshold calibrated for the CPU model (reports/baselines/framework-gate.json).",
        "",
        "| variant | index (median, range) | threshold | flagged by the gate |",
        "|---|---|---|---|",
    ]
    for name, figures in evidence["variants"].items():
        gate = figures["absolute_time_gate"]
        if gate["index_median"] is None:
            continue
        low, high = gate["index_range"]
        threshold = f"×{1 + gate['threshold']:.3f}" if gate["gated"] else "none for this CPU model"
        flagged = f"{gate['flagged']}/{gate['trials']}" if gate["gated"] else "not gated"
        lines.append(
            f"| {name} | ×{gate['index_median']:.3f} ({low:.3f}–{high:.3f}) | {threshold} | {flagged} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence", description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("run", "summarize"))
    parser.add_argument("--out", default=str(ROOT / "reports" / "evidence"))
    parser.add_argument("--repetitions", type=int, default=REPETITIONS)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.action == "run":
        try:
            with stopping.stopped_cleanly_on_signals("bench.evidence"):
                run_campaign(out, args.repetitions, args.variants, args.workers)
                run_accuracy_campaign(out)
        except stopping.Interrupted as stop:
            print(f"bench.evidence: interrupted by {stop}; its runs stopped, the finished ones kept in {out}",
                  file=sys.stderr)  # fmt: skip
            return 128 + stop.signum
    elif not present(out / "runs"):
        print(f"bench.evidence: {out} holds no campaign (no runs/ folder)", file=sys.stderr)
        return 2
    try:
        print(json.dumps(summarize(out), indent=2))
    except (ResultsError, OSError) as error:
        print(f"bench.evidence: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
