"""A gate on the models' absolute CPU time, for what the normalized check cancels: slower framework kernels.

The regression check divides each round by the native reference's rounds around it
(:mod:`bench.check.compare`), so a change in the framework's own kernels moves numerator and
denominator alike and mostly cancels (reports/evidence/amd/tf-conv-*: docs/evidence.md).
This gate looks at the raw time instead, in the two runs ``bench regress`` makes side by side:
the **absolute index** is the geometric mean, over the train step and the batched predict of
``cnn-functional``, of current/baseline median model CPU time per round.  Those are the benchmarks
the evidence campaigns measure, so their pairs calibrate exactly the figure CI judges; a slower
framework kernel slows every cell.  Batch 1 is left out: its raw time spreads too far from one
process to the next, even side by side, to gate on.

How far the raw time of two side-by-side processes spreads depends on the CPU model and on the
host's state (the spreads per host are in docs/evidence.md).  So the gate's threshold is calibrated per CPU model from
every stored side-by-side evidence campaign of that model (reports/evidence/amd/*,
reports/evidence/side-by-side/*): within a campaign the planted change is the same in every pair,
so the spread of log(index) around the campaign's median is the host's.  The threshold is
``exp(Z * rms) - 1`` of that spread, and a pair at or past it is only a suspect: ``bench regress``
measures the two benchmarks again, side by side, and the gate fails the check when the second pair
reaches the threshold too.  The calibration is data, written by ``python -m bench.evidence.calibration`` into reports/baselines/framework-gate.json; a CPU model without one gets its index
reported, not gated.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.core import results as results_io
from bench.core.kinds import GATE_KINDS, GATE_TARGET
from bench.core.pairs import raw_ratio
from bench.core.paths import BASELINES
from bench.core.results import ResultsError

#: written by ``python -m bench.evidence.calibration`` from the stored evidence campaigns
CALIBRATION = BASELINES / "framework-gate.json"
INDEX_BENCHMARKS = tuple(f"test_{kind}[{GATE_TARGET}]" for kind in GATE_KINDS)

REGRESSION, SUSPECT, NO_CHANGE, NOT_GATED = "regression", "suspect", "no change", "not gated"
GATE_NAME = "absolute CPU time (framework gate)"  # how bench regress lists a regression of the gate


def absolute_ratios(baseline: dict, current: dict) -> dict[str, float]:
    """current / baseline median model CPU time per round (:func:`bench.core.pairs.raw_ratio`), for each of
    INDEX_BENCHMARKS that both runs timed on CPU time."""
    by_name = [{bench["name"]: bench for bench in results["benchmarks"]} for results in (baseline, current)]
    timed = [
        name
        for name in INDEX_BENCHMARKS
        if all(
            name in runs and results_io.timing_basis(runs[name]["extra_info"]) == "CPU time"
            for runs in by_name
        )
    ]
    return {name: raw_ratio((baseline, current), name) for name in timed}


def geometric_mean(ratios: dict[str, float]) -> float | None:
    """The absolute index of :func:`absolute_ratios`' figures, or None where there are none."""
    return float(np.exp(np.mean(np.log(list(ratios.values()))))) if ratios else None


def absolute_index(baseline: dict, current: dict) -> float | None:
    """The geometric mean of :func:`absolute_ratios`, or None where the runs share no such benchmark."""
    return geometric_mean(absolute_ratios(baseline, current))


def load_calibration(path: Path | None = None) -> dict:
    """The committed calibration (or ``path``'s); an empty one where there is none (nothing is gated then)."""
    path = path or CALIBRATION
    try:
        calibration = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"cpu_models": {}}
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: not a framework-gate calibration ({error})") from error
    if not isinstance(calibration, dict) or not isinstance(calibration.get("cpu_models"), dict):
        raise ResultsError(f"{path}: not a framework-gate calibration (no cpu_models)")
    return calibration


@dataclass
class GateVerdict:
    indices: list[float]  # the absolute index of each pair judged, in order
    threshold: float | None
    cpu_model: str
    benchmarks: list[str]
    verdict: str

    def describe(self) -> str:
        if not self.indices:
            return (f"absolute CPU time: not gated ({' and '.join(INDEX_BENCHMARKS)} not timed on CPU time "
                    "in both runs)")  # fmt: skip
        moved = f"absolute CPU time ×{self.indices[0]:.3f} (geometric mean of {', '.join(self.benchmarks)})"
        if self.threshold is None:
            return (f"{moved}: not gated, no calibration for CPU model {self.cpu_model!r} "
                    "(python -m bench.evidence.calibration)")  # fmt: skip
        limit = f"this CPU model's threshold ×{1 + self.threshold:.3f}"
        if self.verdict == SUSPECT:
            return f"{moved}, past {limit}: a suspect, measured again side by side"
        if self.verdict == REGRESSION:
            return (
                f"{moved}, then ×{self.indices[1]:.3f} in a second pair, both past {limit}: regression, the "
                "models need more CPU time per step than the baseline's beside them (a slower framework or "
                "Keras release, or slower code throughout)"
            )
        if len(self.indices) > 1:
            return f"{moved} past {limit}, then ×{self.indices[1]:.3f} in a second pair: no change"
        return f"{moved}, under {limit}: no change"


def judge(pairs: list[tuple[dict, dict]], calibration: dict | None = None) -> GateVerdict:
    """The gate's verdict on the side-by-side (baseline, current) pairs measured so far.

    A first pair at or past the threshold is a suspect; given a second pair, a regression if that one
    reaches the threshold too, else no change.  Pairs after the second are not looked at."""
    calibration = load_calibration() if calibration is None else calibration
    cpu_model = pairs[0][1]["machine_info"]["suite"].get("cpu_model") or "unknown"
    ratios = absolute_ratios(*pairs[0])
    indices = [i for i in [geometric_mean(ratios), *(absolute_index(*pair) for pair in pairs[1:2])] if i]
    entry = calibration["cpu_models"].get(cpu_model)
    threshold = float(entry["threshold"]) if entry else None
    if not ratios or threshold is None:
        return GateVerdict(indices[:1], threshold, cpu_model, list(ratios), NOT_GATED)
    past = [index >= 1 + threshold for index in indices]
    if not past[0]:
        verdict = NO_CHANGE
    elif len(past) == 1:
        verdict = SUSPECT
    else:
        verdict = REGRESSION if past[1] else NO_CHANGE
    return GateVerdict(indices, threshold, cpu_model, list(ratios), verdict)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.check.framework_gate", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="BASELINE CURRENT [BASELINE_AGAIN CURRENT_AGAIN]")
    args = parser.parse_args(argv)
    if len(args.files) not in (2, 4):
        parser.error("takes one or two pairs of results files: BASELINE CURRENT [BASELINE CURRENT]")
    try:
        loaded = [results_io.load(path) for path in args.files]
        gate = judge(list(zip(loaded[::2], loaded[1::2], strict=True)))
    except (ResultsError, OSError) as error:
        print(f"bench.check.framework_gate: {error}", file=sys.stderr)
        return 2
    print(gate.describe())
    return 1 if gate.verdict == REGRESSION else 0


if __name__ == "__main__":
    sys.exit(main())
