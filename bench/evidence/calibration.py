"""The absolute-time gate's calibration: per CPU model, how far the index of two side-by-side runs strays.

``python -m bench.evidence.calibration [FOLDER ...] [--out FILE]`` reads every stored fixed-work
side-by-side campaign (reports/evidence/amd/*, reports/evidence/side-by-side/*), takes the spread of
log(index) of each trial's pairs around its campaign's median (the planted change is the same in
every pair of a campaign, so that spread is the host's), and writes the per-model threshold
``exp(Z * rms) - 1`` into reports/baselines/framework-gate.json, which :mod:`bench.check.framework_gate` reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from bench.check.framework_gate import CALIBRATION, INDEX_BENCHMARKS, absolute_index
from bench.core.paths import PROJECT_ROOT, project_relative
from bench.core.results import ResultsError
from bench.evidence.archive import present
from bench.evidence.campaigns import VARIANTS, stored_trials

#: the folders of stored side-by-side evidence campaigns the committed calibration is made from
CAMPAIGN_FOLDERS = ("reports/evidence/amd", "reports/evidence/side-by-side")
#: rms multiples of the host's index spread that a pair must reach, twice in a row: in steps of 0.25, the
#: smallest at which no stored trial of any CPU model has its first two pairs both that far above its
#: campaign's median (docs/evidence.md)
Z = 2.75
MIN_PAIRS = 30  # fewer stored pairs of a CPU model than this calibrate nothing
#: plants whose size each process measures for itself (by wall-clock timing) vary from pair to pair
#: on their own: their campaigns say nothing about the host's spread
SELF_SIZED_PLANTS = ("PLANTED_SLOWDOWN",)


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
    campaigns = sorted(c for folder in folders for c in folder.iterdir() if c.is_dir() and present(c / "runs"))
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
            if project_relative(campaign) not in entry["campaigns"]:
                entry["campaigns"].append(project_relative(campaign))
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evidence.calibration", description=__doc__.splitlines()[0]
    )
    parser.add_argument("folders", nargs="*", default=[str(PROJECT_ROOT / f) for f in CAMPAIGN_FOLDERS])
    parser.add_argument("--out", default=str(CALIBRATION))
    args = parser.parse_args(argv)
    try:
        calibration = calibrate([Path(f) for f in args.folders])
    except (ResultsError, OSError) as error:
        print(f"bench.evidence.calibration: {error}", file=sys.stderr)
        return 2
    Path(args.out).write_text(json.dumps(calibration, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(calibration, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
