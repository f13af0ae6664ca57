"""A gate on the models' absolute CPU time, for what the normalized check cancels: slower framework kernels.

The regression check divides each round by the native reference's rounds around it
(:mod:`bench.compare`), so a change in the framework's own kernels moves numerator and
denominator alike and mostly cancels: 10% more convolution work in TensorFlow moved the raw CPU
time of the train step ×1.08 and its normalized time ×1.01 (reports/evidence/amd/tf-conv-10pct).
This gate looks at the raw time instead, in the two runs ``bench regress`` makes side by side:
the **absolute index** is the geometric mean, over the train step and the batched predict of
``cnn-functional``, of current/baseline median model CPU time per round.  Those are the benchmarks
the evidence campaigns measure, so their pairs calibrate exactly the figure CI judges; a slower
framework kernel slows every cell.  Batch 1 is left out: its raw time spreads 9-10% from one
process to the next even side by side.

How far the raw time of two side-by-side processes spreads depends on the CPU model and on the
host's state: on AMD EPYC hosts of the CI kind the index of a pair lies within about 1% of its
campaign's median most of the time, but now and then a few pairs in a row stray 5-15%; on the Intel
Xeon host it spreads about 7% per pair.  So the gate's threshold is calibrated per CPU model from
every stored side-by-side evidence campaign of that model (reports/evidence/amd/*,
reports/evidence/side-by-side/*): within a campaign the planted change is the same in every pair,
so the spread of log(index) around the campaign's median is the host's.  The threshold is
``exp(Z * rms) - 1`` of that spread, and a pair at or past it is only a suspect: ``bench regress``
measures the two benchmarks again, side by side, and the gate fails the check when the second pair
reaches the threshold too.  The calibration is data, written by ``python -m bench.framework_gate
calibrate`` into reports/baselines/framework-gate.json; a CPU model without one gets its index
reported, not gated.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench import results as results_io
from bench.evidence import TARGET, VARIANTS, raw_ratio, stored_trials
from bench.results import ResultsError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CALIBRATION = PROJECT_ROOT / "reports" / "baselines" / "framework-gate.json"
#: the folders of stored side-by-side evidence campaigns the committed calibration is made from
CAMPAIGN_FOLDERS = ("reports/evidence/amd", "reports/evidence/side-by-side")
INDEX_KINDS = ("train_throughput", "inference_throughput")
INDEX_BENCHMARKS = tuple(f"test_{kind}[{TARGET}]" for kind in INDEX_KINDS)
#: rms multiples of the host's index spread that a pair must reach, twice in a row: in steps of 0.25, the
#: smallest at which no stored trial of any CPU model has its first two pairs both that far above its
#: campaign's median (2.5 left one of 150 on AMD EPYC: a trial whose pairs read +5.0% and +6.1%)
Z = 2.75
MIN_PAIRS = 30  # fewer stored pairs of a CPU model than this calibrate nothing
#: plants whose size each process measures for itself (by wall-clock timing) vary from pair to pair
#: on their own: their campaigns say nothing about the host's spread
SELF_SIZED_PLANTS = ("PLANTED_SLOWDOWN",)

REGRESSION, SUSPECT, NO_CHANGE, NOT_GATED = "regression", "suspect", "no change", "not gated"
GATE_NAME = "absolute CPU time (framework gate)"  # how bench regress lists a regression of the gate


def absolute_ratios(baseline: dict, current: dict) -> dict[str, float]:
    """current / baseline median model CPU time per round (:func:`bench.evidence.raw_ratio`), for each of
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


def campaign_pairs(campaign: Path) -> dict[str, list[list[tuple[dict, dict]]]]:
    """A campaign's stored trials (each a list of (baseline, variant) pairs) per fixed-work variant."""
    found = {}
    for name, (planted, _) in VARIANTS.items():
        if any(variable in planted for variable in SELF_SIZED_PLANTS):
            continue
        trials = stored_trials(campaign / "runs", name)
        if trials:
            found[name] = trials
    return found


def host_deviations(folders: list[Path]) -> dict[str, dict]:
    """Per CPU model: each stored trial's log(index) per pair minus its campaign's median (the host's share
    of the index), and the campaigns they came from, over every campaign in ``folders``."""
    by_model: dict[str, dict] = {}
    campaigns = sorted(c for folder in folders for c in folder.iterdir() if (c / "runs").is_dir())
    for campaign in campaigns:
        for trials in campaign_pairs(campaign).values():
            models = {run["machine_info"]["suite"].get("cpu_model") for t in trials for p in t for run in p}
            indices = [[absolute_index(*pair) for pair in trial] for trial in trials]
            if len(models) != 1 or any(index is None for trial in indices for index in trial):
                continue
            logs = [np.log(trial) for trial in indices]
            median = np.median(np.concatenate(logs))
            entry = by_model.setdefault(models.pop(), {"trials": [], "campaigns": []})
            entry["trials"] += [list(trial - median) for trial in logs]
            if _project_relative(campaign) not in entry["campaigns"]:
                entry["campaigns"].append(_project_relative(campaign))
    return by_model


def calibrate(folders: list[Path]) -> dict:
    """Per CPU model: the spread of :func:`host_deviations` over every stored pair and the threshold it
    gives; a model with fewer than MIN_PAIRS pairs is left out (its runs would be gated on too little)."""
    calibrated = {}
    for model, entry in sorted(host_deviations(folders).items()):
        deviations = np.asarray([x for trial in entry["trials"] for x in trial])
        if len(deviations) < MIN_PAIRS:
            continue
        rms = float(np.sqrt(np.mean(deviations**2)))
        threshold = float(np.expm1(Z * rms))
        calibrated[model] = {
            "pairs": len(deviations),
            "trials": len(entry["trials"]),
            "rms_log_deviation": round(rms, 5),
            "threshold": round(threshold, 4),
            "pairs_at_or_past_threshold": int(np.sum(deviations >= np.log1p(threshold))),
            "trials_whose_first_two_pairs_both_are": sum(
                bool(min(trial[:2]) >= np.log1p(threshold)) for trial in entry["trials"]
            ),
            "largest_deviation": round(float(np.expm1(deviations.max())), 4),
            "campaigns": entry["campaigns"],
        }
    return {"z": Z, "benchmarks": list(INDEX_BENCHMARKS), "cpu_models": calibrated}


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
                    "(python -m bench.framework_gate calibrate)")  # fmt: skip
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
    parser = argparse.ArgumentParser(
        prog="python -m bench.framework_gate", description=__doc__.splitlines()[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("calibrate", help="calibrate from the stored evidence campaigns")
    write.add_argument("folders", nargs="*", default=[str(PROJECT_ROOT / f) for f in CAMPAIGN_FOLDERS])
    write.add_argument("--out", default=str(CALIBRATION))
    check = commands.add_parser("check", help="judge side-by-side pairs of results files")
    check.add_argument("files", nargs="+", help="BASELINE CURRENT [BASELINE_AGAIN CURRENT_AGAIN]")
    args = parser.parse_args(argv)
    if args.command == "check" and len(args.files) not in (2, 4):
        parser.error("check takes one or two pairs of results files: BASELINE CURRENT [BASELINE CURRENT]")
    try:
        if args.command == "calibrate":
            calibration = calibrate([Path(f) for f in args.folders])
            Path(args.out).write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
            print(json.dumps(calibration, indent=2))
            return 0
        loaded = [results_io.load(path) for path in args.files]
        gate = judge(list(zip(loaded[::2], loaded[1::2], strict=True)))
    except (ResultsError, OSError) as error:
        print(f"bench.framework_gate: {error}", file=sys.stderr)
        return 2
    print(gate.describe())
    return 1 if gate.verdict == REGRESSION else 0


if __name__ == "__main__":
    sys.exit(main())
