"""A gate on the models' absolute CPU time, for what the normalized check cancels: slower framework kernels.

The regression check divides each round by the native reference's rounds around it
(:mod:`bench.compare`), so a change in the framework's own kernels moves numerator and
denominator alike and mostly cancels: 10% more convolution work in TensorFlow moved the raw CPU
time of the train step ×1.08 and its normalized time ×1.01 (reports/evidence/amd/tf-conv-10pct).
This gate looks at the raw time instead, in the two runs ``bench regress`` makes side by side:
the **absolute index** is the geometric mean, over the train step and the batched predict of
``cnn-functional``, of current/baseline median model CPU time per round.  Those are the benchmarks
the evidence campaigns measure, so the A/A pairs calibrate exactly the figure CI judges; a slower
framework kernel slows every cell.  Batch 1 is left out: its raw time spreads 9-10% from one
process to the next even side by side.

How far the raw time of two side-by-side processes spreads depends on the CPU model (per pair
about 1% on the AMD EPYC hosts of the CI kind, about 5% on the Intel Xeon host), so the gate's
threshold is calibrated per CPU model from that model's stored A/A campaigns:
``exp(Z * rms) - 1``, where rms is the root mean square of log(index) over every A/A pair.  The
calibration is data, written by ``python -m bench.framework_gate calibrate DIR...`` into
reports/baselines/framework-gate.json; a CPU model without one gets its index reported, not
gated.  Judged on the first pair alone: at Z = 5 no stored A/A pair comes near the threshold.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import results as results_io
from bench.evidence import TARGET
from bench.results import ResultsError
from bench.rule_simulation import a_a_pairs

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = PROJECT_ROOT / "reports" / "baselines" / "framework-gate.json"
#: the stored A/A campaigns the committed calibration is made from (evidence runs, side by side)
A_A_CAMPAIGNS = (
    "reports/evidence/amd/a-a",
    "reports/evidence/amd/a-a-2",
    "reports/evidence/side-by-side/a-a",
)
INDEX_KINDS = ("train_throughput", "inference_throughput")
INDEX_BENCHMARKS = tuple(f"test_{kind}[{TARGET}]" for kind in INDEX_KINDS)
Z = 5.0  # rms multiples of the A/A index spread that a slowdown must pass
MIN_PAIRS = 20  # fewer A/A pairs than this calibrate nothing

REGRESSION, NO_CHANGE, NOT_GATED = "regression", "no change", "not gated"
GATE_NAME = "absolute CPU time (framework gate)"  # how bench regress lists a regression of the gate


def absolute_ratios(baseline: dict, current: dict) -> dict[str, float]:
    """current / baseline median model CPU time per round, for each of INDEX_BENCHMARKS that both runs
    timed on CPU time."""
    base_rows = {row.name: row for row in results_io.frame(baseline).itertuples()}
    ratios = {}
    for row in results_io.frame(current).itertuples():
        base = base_rows.get(row.name)
        if row.name not in INDEX_BENCHMARKS or base is None:
            continue
        if {results_io.timing_basis(row.extra), results_io.timing_basis(base.extra)} != {"CPU time"}:
            continue
        (cur_model, _), (base_model, _) = (results_io.timed_rounds(r.extra, r.data) for r in (row, base))
        if len(cur_model) and len(base_model):
            ratios[row.name] = float(np.median(cur_model) / np.median(base_model))
    return ratios


def geometric_mean(ratios: dict[str, float]) -> float | None:
    """The absolute index of :func:`absolute_ratios`' figures, or None where there are none."""
    return float(np.exp(np.mean(np.log(list(ratios.values()))))) if ratios else None


def absolute_index(baseline: dict, current: dict) -> float | None:
    """The geometric mean of :func:`absolute_ratios`, or None where the runs share no such benchmark."""
    return geometric_mean(absolute_ratios(baseline, current))


def calibrate(campaigns: list[Path]) -> dict:
    """Per CPU model: the A/A pairs' spread of log(index) and the threshold it gives.

    Pairs are grouped by the CPU model both their runs recorded; a model with fewer than
    MIN_PAIRS pairs is left out (its runs would be gated on too little)."""
    by_model: dict[str, dict] = {}
    for campaign in campaigns:
        for pair in a_a_pairs(campaign):
            model = {results["machine_info"]["suite"].get("cpu_model") for results in pair}
            index = absolute_index(*pair)
            if len(model) != 1 or index is None:
                continue
            entry = by_model.setdefault(model.pop(), {"log_index": [], "campaigns": []})
            entry["log_index"].append(float(np.log(index)))
            name = _project_relative(campaign)
            if name not in entry["campaigns"]:
                entry["campaigns"].append(name)
    models = {}
    for model, entry in sorted(by_model.items()):
        logs = np.asarray(entry["log_index"])
        if len(logs) < MIN_PAIRS:
            continue
        rms = float(np.sqrt(np.mean(logs**2)))
        models[model] = {
            "a_a_pairs": len(logs),
            "rms_log_index": round(rms, 5),
            "largest_a_a_index": round(float(np.exp(logs.max())), 4),
            "threshold": round(float(np.expm1(Z * rms)), 4),
            "campaigns": entry["campaigns"],
        }
    return {"z": Z, "benchmarks": list(INDEX_BENCHMARKS), "cpu_models": models}


def _project_relative(path: Path) -> str:
    resolved = path.resolve()
    return str(resolved.relative_to(PROJECT_ROOT)) if resolved.is_relative_to(PROJECT_ROOT) else str(path)


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
    index: float | None
    threshold: float | None
    cpu_model: str
    benchmarks: list[str]
    verdict: str

    def describe(self) -> str:
        if self.index is None:
            return (f"absolute CPU time: not gated ({' and '.join(INDEX_BENCHMARKS)} not timed on CPU time "
                    "in both runs)")  # fmt: skip
        moved = f"absolute CPU time ×{self.index:.3f} (geometric mean of {', '.join(self.benchmarks)})"
        if self.threshold is None:
            return (f"{moved}: not gated, no A/A calibration for CPU model {self.cpu_model!r} "
                    "(python -m bench.framework_gate calibrate)")  # fmt: skip
        limit = f"this CPU model's threshold ×{1 + self.threshold:.3f}"
        if self.verdict == REGRESSION:
            return (
                f"{moved}, past {limit}: regression, the models need more CPU time per step than the "
                "baseline's beside them (a slower framework or Keras release, or slower code throughout)"
            )
        return f"{moved}, under {limit}: no change"


def judge(baseline: dict, current: dict, calibration: dict | None = None) -> GateVerdict:
    """The gate's verdict on one side-by-side pair of runs."""
    calibration = load_calibration() if calibration is None else calibration
    cpu_model = current["machine_info"]["suite"].get("cpu_model") or "unknown"
    ratios = absolute_ratios(baseline, current)
    index = geometric_mean(ratios)
    entry = calibration["cpu_models"].get(cpu_model)
    threshold = float(entry["threshold"]) if entry else None
    if index is None or threshold is None:
        verdict = NOT_GATED
    else:
        verdict = REGRESSION if index >= 1 + threshold else NO_CHANGE
    return GateVerdict(index, threshold, cpu_model, list(ratios), verdict)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.framework_gate", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("calibrate", help="calibrate from A/A evidence campaigns")
    write.add_argument("campaigns", nargs="*", default=[str(PROJECT_ROOT / c) for c in A_A_CAMPAIGNS])
    write.add_argument("--out", default=str(CALIBRATION))
    check = commands.add_parser("check", help="judge a side-by-side pair of results files")
    check.add_argument("baseline")
    check.add_argument("current")
    args = parser.parse_args(argv)
    try:
        if args.command == "calibrate":
            calibration = calibrate([Path(c) for c in args.campaigns])
            Path(args.out).write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
            print(json.dumps(calibration, indent=2))
            return 0
        gate = judge(results_io.load(args.baseline), results_io.load(args.current))
    except (ResultsError, OSError) as error:
        print(f"bench.framework_gate: {error}", file=sys.stderr)
        return 2
    print(gate.describe())
    return 1 if gate.verdict == REGRESSION else 0


if __name__ == "__main__":
    sys.exit(main())
