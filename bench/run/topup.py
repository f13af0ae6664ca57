"""Top-up runs: more train-step rounds, in fresh processes, until the paired ratios are as precise as the
profile asks or its time budget is spent.

How many rounds a paired train-step ratio needs depends on the host: a busy one needs several
times what a quiet one does.  So after the main run, ``bench run`` measures the median half-width of the train-step
ratios (:func:`bench.core.ratios.median_half_width`, over the main run and its top-ups pooled by
:func:`bench.core.results.pool_repeats`) and, while it is above ``profile.precision_target`` and the
budget (``profile.time_budget_s`` from the start of ``bench run``) leaves room for another cell,
runs the train benchmarks of the cells above the target again into ``<out>-topup-N.json``.  A
top-up is a process of its own: its rounds carry its own offset, which is what pooling a second
process averages out (more rounds of one process would not).  The main results file lists its
top-ups (``suite.top_ups``); ``bench report`` pools them with it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bench.core import results as results_io

KIND = "train_throughput"
#: a fresh process's start before its first timed round (imports, data, models), with room to spare
PROCESS_START_S = 40.0
#: a cell's share of a run, as the main run timed it, times this: warm-up and compilation on top
CELL_MARGIN = 1.3

#: runs ``bench run``'s benchmarks into ``out`` with a -k selection and extra environment;
#: returns (pytest exit status, the signal that interrupted it or None)
RunBenchmarks = Callable[[Path, str, dict], tuple[int, "int | None"]]


def top_up_path(out: Path, number: int) -> Path:
    return out.with_name(f"{out.stem}-topup-{number}{out.suffix}")


def top_ups_of(out: Path) -> list[Path]:
    """The top-up files beside ``out``, whichever run wrote them."""
    return sorted(out.parent.glob(f"{out.stem}-topup-*{out.suffix}"))


def with_top_ups(paths: list[str | Path]) -> list[Path]:
    """``paths`` with the top-ups each results file lists, in order, each once; a listed top-up that is
    missing is left out with a warning (the main run's figures still stand)."""
    expanded: list[Path] = []
    for path in map(Path, paths):
        expanded.append(path)
        for name in results_io.load(path)["machine_info"]["suite"].get("top_ups") or []:
            top_up = path.with_name(name)
            if top_up.is_file():
                expanded.append(top_up)
            else:
                print(f"warning: {path} names its top-up {name}, which is missing; reporting without it")
    unique = list(dict.fromkeys(p.resolve() for p in expanded))
    return [Path(p) for p in unique]


def cell_seconds(results: dict) -> dict[str, float]:
    """Cell id → wall seconds its train benchmark took in ``results`` (rounds and partner rounds)."""
    seconds = {}
    for row in results_io.frame(results).itertuples():
        if row.kind == KIND and "reference_round_s" in row.extra and len(row.data):
            partner = float(np.sum(row.extra["reference_round_s"]))
            seconds[row.id] = CELL_MARGIN * (float(np.sum(row.data)) + partner)
    return seconds


def train_half_widths(loaded: list[dict]) -> dict[str, float]:
    """Cell id → half-width of its train-step ratio to Functional, over the ``loaded`` results pooled."""
    from bench.core.ratios import half_widths

    frame, _ = results_io.pool_repeats(loaded)
    backend = loaded[0]["machine_info"]["suite"].get("backend")
    return half_widths(frame, backend, KIND)


def top_up(out: Path, target: float, budget_end: float, run_benchmarks: RunBenchmarks) -> int | None:
    """Top up ``out`` until the median train-step half-width is within ``target`` or no cell fits before
    ``budget_end`` (Unix time).  Records the top-ups in ``out``; returns the exit status of an
    interrupted top-up (its partial file is dropped), else None."""
    loaded = [results_io.load(out)]  # the main run, then each top-up: every file read once
    seconds = cell_seconds(loaded[0])
    for number in range(1, 100):
        widths = train_half_widths(loaded)
        if not widths:
            return None
        median = float(np.median(list(widths.values())))
        precision = f"train-step ratios ±{median:.1%} (median half-width), {{}} ±{target * 100:g}%"
        wide = sorted(cell for cell, width in widths.items() if width > target and cell in seconds)
        if median <= target:
            print(f"bench run: {precision.format('within')}")
            break
        if not wide:
            print(f"bench run: {precision.format('above')}; no cell timed by the main run to measure again")
            break
        longest = max(seconds[cell] for cell in wide)
        left = budget_end - time.time()
        if left < PROCESS_START_S + longest:
            print(f"bench run: {precision.format('above')}; "
                  f"{max(left, 0):.0f} s of the time budget left, too little for a top-up")  # fmt: skip
            break
        path = top_up_path(out, number)
        print(f"bench run: {precision.format('above')}; "
              f"top-up {number}: {', '.join(wide)} again → {path.name}", flush=True)  # fmt: skip
        selection = f"{KIND} and ({' or '.join(wide)})"
        # a cell that would start too late to end within the budget is skipped (bench.suite.conftest)
        deadline = min(budget_end - longest, float(os.environ.get("BENCH_DEADLINE") or "inf"))
        status, signum = run_benchmarks(path, selection, {"BENCH_DEADLINE": str(deadline)})
        if signum is not None:
            path.unlink(missing_ok=True)
            return 128 + signum
        measured = results_io.load(path) if status == 0 and path.is_file() else None
        if not measured or not measured["benchmarks"]:
            print(f"bench run: top-up {number} measured nothing (exit {status}); keeping what was before it")
            path.unlink(missing_ok=True)
            break
        loaded.append(measured)
        _record(out, [Path(results["_path"]).name for results in loaded[1:]])
    return None


def _record(out: Path, top_ups: list[str]) -> None:
    """List the top-ups in the main results file (``suite.top_ups``), where ``bench report`` finds them."""
    results = json.loads(out.read_text(encoding="utf-8"))
    results["machine_info"]["suite"]["top_ups"] = top_ups
    results_io.rewrite(out, results)
