"""The resolution a check states, held to the stored A/A campaigns of real hosts.

The stored A/A pairs (``reports/evidence``: an Intel Xeon @ 2.50GHz campaign and three AMD EPYC ones), the
same code on both sides, side by side, as ``bench regress`` runs them, are grouped into ten trials of four
pairs each (:func:`regrouped`: the check may use four).  Its first pair states, per timed kind, the smallest slowdown it would catch 9 times in 10
(:mod:`bench.check.resolution`).  That slowdown is then planted inside Keras' share of the work: every
round of the checkout's side, in every pair, takes that much more model CPU time while its native reference
rounds stay as measured (what a slower Keras release does to the figures).  The check (screen, further
pairs, the pooled rule) runs on the planted trial; the stated figure holds when it is caught at least 8
times in 10, and half of it at most 3 times in 10.

The between-runs noise of A/A pairs per CPU model and kind, which the check adds where a run cannot see it
(:func:`bench.check.resolution.calibrated_between`), is calibrated from the same campaigns: every stored A/A
pair's log ratio, 1.4826 × their median absolute value.  On the AMD host, whose A/A trials come from three
campaigns, each campaign's trials are also judged with a calibration from the other two.

    python -m bench.evidence.stated_resolution [--markdown FILE] [--calibrate]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

import numpy as np

from bench.check.compare import REGRESSION, benchmark_kinds, compare, confirm_suspects, suspected_slowdowns
from bench.check.resolution import CALIBRATION, resolutions
from bench.check.rule import MAX_PAIRS
from bench.core.kinds import GATE_TARGET, TIMED
from bench.core.paths import EVIDENCE
from bench.evidence.campaigns import stored_trials

#: the stored A/A campaigns per host: their runs folders
CAMPAIGNS = {
    "Intel Xeon @ 2.50GHz": ["runs"],
    "AMD EPYC": ["amd/a-a/runs", "amd/a-a-2/runs", "amd/a-a-3/runs"],
}
AT_STATED, AT_HALF = 8, 3  # of 10: what the stated figure must be caught at least, and half of it at most


def planted(results: dict, factor: float) -> dict:
    """``results`` with every timed round's model time ``factor`` times longer, the reference as measured."""
    slower = copy.deepcopy(results)
    for bench in slower["benchmarks"]:
        extra = bench["extra_info"]
        if "reference_cpu_round_s" not in extra:
            continue
        bench["stats"]["data"] = [t * factor for t in bench["stats"]["data"]]
        if extra.get("cpu_round_s") is not None:
            extra["cpu_round_s"] = [t * factor for t in extra["cpu_round_s"]]
    return slower


def caught(pairs: list[tuple[dict, dict]], benchmark: str, slowdown: float) -> bool:
    """Whether the check flags ``benchmark`` in a trial whose checkout side is ``slowdown`` slower."""
    slowed = [(base, planted(cur, 1 + slowdown)) for base, cur in pairs]
    if benchmark not in suspected_slowdowns(*slowed[0]):
        return False

    def stored_pair(number: int, names: list[str]):
        return slowed[number - 1] if number <= len(slowed) else None

    (verdict,) = confirm_suspects(slowed[0], [benchmark], stored_pair)
    return verdict.verdict == REGRESSION


def _trials(folders: list[str]) -> list[list[tuple[dict, dict]]]:
    return [t for folder in folders for t in stored_trials(EVIDENCE / folder, "a-a")]


def between_runs(trials: list[list[tuple[dict, dict]]]) -> dict[str, float]:
    """Per timed kind, σ of the log ratio of every A/A pair of ``trials`` (around 1: they ran the same code)."""
    logs: dict[str, list[float]] = {}
    for pairs in trials:
        for pair in pairs:
            for verdict in compare(*pair):
                kind = benchmark_kinds(pair[1]).get(verdict.benchmark)
                if verdict.median_ratio and kind in dict(TIMED):
                    logs.setdefault(kind, []).append(float(np.log(verdict.median_ratio)))
    return {kind: round(float(1.4826 * np.median(np.abs(values))), 5) for kind, values in logs.items()}


def calibrate() -> dict:
    """Write reports/baselines/between-runs.json from the stored A/A campaigns; what was written."""
    found = {}
    for folders in CAMPAIGNS.values():
        trials = _trials(folders)
        model = trials[0][0][0]["machine_info"]["suite"]["cpu_model"]
        found[model] = {**between_runs(trials), "pairs": sum(len(t) for t in trials), "campaigns": folders}
    calibration = {"what": "per CPU model and timed kind: σ of the log ratio of A/A pairs (bench regress' "
                           "between-runs noise that a run cannot see in itself)", "cpu_models": found}  # fmt: skip
    CALIBRATION.write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    return calibration


def regrouped(trials: list[list[tuple[dict, dict]]], count: int = 10) -> list[list[tuple[dict, dict]]]:
    """``count`` trials of MAX_PAIRS pairs each, from the stored trials' pairs taken in turn with a stride: every
    stored pair is an independent side-by-side A/A pair of the host, and the check may use up to MAX_PAIRS of
    them, more than a stored trial holds (Intel: two).  Pairs of different moments in one trial add the host's
    drift between them: if anything, the check is judged on a noisier host than it meets."""
    flat = [pair for pairs in trials for pair in pairs]
    stride = max(1, len(flat) // MAX_PAIRS)
    return [[flat[(i + j * stride) % len(flat)] for j in range(MAX_PAIRS)] for i in range(count)]


def host_rows(host: str, folders: list[str]) -> list[dict]:
    """Per timed kind: the trials' stated figures and how often the planted slowdowns were caught."""
    trials = regrouped(_trials(folders))
    rows = []
    for kind, label in TIMED:
        benchmark = f"test_{kind}[{GATE_TARGET}]"
        stated, at_stated, at_half = [], 0, 0
        for pairs in trials[:10]:
            first = [v for v in compare(*pairs[0]) if v.ci is not None]
            cpu_model = pairs[0][1]["machine_info"]["suite"]["cpu_model"]
            found = {r.kind: r for r in resolutions(first, benchmark_kinds(pairs[0][1]), cpu_model,
                                                    most_pairs=len(pairs))}  # fmt: skip
            size = found[kind].smallest
            stated.append(size)
            at_stated += caught(pairs, benchmark, size)
            at_half += caught(pairs, benchmark, size / 2)
        count = min(len(trials), 10)
        rows.append({
            "host": host, "kind": label, "trials": count,
            "stated (median, range)": f"{np.median(stated):.1%} ({min(stated):.1%}–{max(stated):.1%})",
            "caught at the stated size": f"{at_stated}/{count}", "caught at half of it": f"{at_half}/{count}",
            "holds": at_stated >= AT_STATED * count / 10 and at_half <= AT_HALF * count / 10,
        })  # fmt: skip
    return rows


def table() -> list[dict]:
    return [row for host, folders in CAMPAIGNS.items() for row in host_rows(host, folders)]


def markdown(rows: list[dict]) -> str:
    import pandas as pd

    shown = [{**row, "holds": "yes" if row["holds"] else "no"} for row in rows]
    return pd.DataFrame(shown).to_markdown(index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence.stated_resolution", description=__doc__)
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--calibrate", action="store_true", help=f"first rewrite {CALIBRATION.name}")
    args = parser.parse_args(argv)
    if args.calibrate:
        print(json.dumps(calibrate()["cpu_models"], indent=1))
    rows = table()
    text = markdown(rows)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text + "\n", encoding="utf-8")
    return 0 if all(row["holds"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
