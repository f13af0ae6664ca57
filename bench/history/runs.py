"""What the store records of a results file: the run (commit, machine, environment) and its measurements.

Everything comes from the file itself, as ``bench run`` wrote it, so a store can live away from the
repository: CI runners upload their files and one job adds them.  The commit is the suite's; its time is
pytest-benchmark's ``commit_info`` where that names the same commit, else the run's own time.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bench.core import results as results_io
from bench.core.kinds import TIMED_KINDS
from bench.core.machine import cpu_slug
from bench.core.stats import median_ci

MACHINE_ENV = "BENCH_MACHINE"
#: the settings and switches that are not part of a series' environment: they name the run, or are the
#: versions a series is meant to follow across upgrades (shown with each run instead)
_NOT_ENVIRONMENT = ("name", "description", "overridden")


def utc(moment: str | None) -> str | None:
    """An ISO 8601 time in UTC (naive times are taken as UTC), or None."""
    if not moment:
        return None
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc).isoformat(timespec="seconds")


def fingerprint(suite: dict) -> dict:
    """What tells machines apart: CPU model, cores, device."""
    return {"cpu": suite.get("cpu_model"), "cores": suite.get("cpu_threads"), "device": suite.get("device")}


def default_machine(suite: dict) -> str:
    """A machine name from the fingerprint, e.g. ``amd-epyc-2c`` or ``intel-...-2-50ghz-2c-nvidia-h100``."""
    print_ = fingerprint(suite)
    name = f"{cpu_slug(print_['cpu'] or 'unknown-cpu')}-{print_['cores'] or '?'}c"
    if print_["device"] and print_["device"] != "CPU":
        name += "-" + cpu_slug(str(print_["device"]))
    return name


def environment_key(suite: dict) -> str:
    """A short digest of what a series must share beyond machine, backend and profile: the Python version,
    the profile's settings, the dataset and the kernel switches.  Framework versions are not in it: a series
    follows a project across Keras and TensorFlow releases, which is where a slower release shows."""
    settings = {k: v for k, v in (suite.get("settings") or {}).items()  # a field added later reads None
                if k not in _NOT_ENVIRONMENT and v is not None}  # fmt: skip
    python = ".".join(str(suite.get("python") or "?").split(".")[:2])
    recipe = {"python": python, "settings": settings, "dataset": suite.get("dataset"),
              "env": {k: v for k, v in (suite.get("env") or {}).items() if k != "KERAS_BACKEND"}}  # fmt: skip
    return f"py{python}-" + hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:10]


def code_version(suite: dict) -> str:
    """The measuring code's version as the run recorded it; older files: their native reference's version."""
    return suite.get("benchmark_code") or f"reference-v{suite.get('reference_version', 0)}"


def _median(values) -> float | None:
    """The median of a list of figures, None for none."""
    return float(np.median(values)) if values is not None and len(values) else None


def measurement(row, version: str) -> dict:
    """One benchmark's figures: normalized and raw CPU time per round (timed kinds), throughput, accuracy."""
    extra = row.extra
    timed = ("normalized", "normalized_low", "normalized_high", "cpu_s", "cpu_low", "cpu_high", "rounds")
    figures = dict.fromkeys(timed)
    figures |= {
        "benchmark": row.name,
        "kind": row.kind,
        "code_version": version,
        "images_per_s": extra.get("images_per_s"),
        "p50_s": extra.get("p50_s"),
        "accuracy": extra.get("test_accuracy"),
        "first_step_s": _median(extra.get("first_step_s")),
    }
    if row.kind in TIMED_KINDS:
        model, reference = results_io.timed_rounds(extra, row.data)
        if len(model) and results_io.reference_fits(model, reference):
            point, low, high = median_ci(results_io.normalized_times(model, reference))
            figures.update(normalized=point, normalized_low=low, normalized_high=high)
        if len(model):
            point, low, high = median_ci(model)
            figures.update(cpu_s=point, cpu_low=low, cpu_high=high, rounds=len(model))
    return figures


def _commit(suite: dict) -> tuple[str, bool]:
    commit = suite.get("commit") or ""
    if not re.fullmatch(r"[0-9a-f]{7,40}(-dirty)?", commit):
        raise results_io.ResultsError("records no commit: a history needs the commit each run measured")
    return commit.removesuffix("-dirty"), commit.endswith("-dirty") or bool(suite.get("changed_paths"))


def content_digest(results: dict) -> str:
    """sha256 of what a run measured: its time, commit and benchmarks, whatever the file's layout.

    ``bench run`` rewrites its file after top-ups or an interruption (adding metadata, re-serializing);
    the same measurements are the same run however the file's bytes read.
    """
    suite = results["machine_info"]["suite"]
    identity = {
        "datetime": results.get("datetime"),
        "commit": suite.get("commit"),
        "benchmarks": sorted(
            ({key: bench.get(key) for key in ("name", "params", "stats", "extra_info")}
             for bench in results["benchmarks"]),
            key=lambda bench: bench["name"],
        ),
    }  # fmt: skip
    canonical = json.dumps(identity, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def read_run(path: Path, *, machine: str | None, trigger: str) -> tuple[dict, list[dict]]:
    """(the run's row, its measurements' rows) from a results file; ResultsError naming the file."""
    path = Path(path)
    results = results_io.load(path)
    suite = results["machine_info"]["suite"]
    try:
        commit, dirty = _commit(suite)
    except results_io.ResultsError as error:
        raise results_io.ResultsError(f"{path}: {error}") from None
    info = results.get("commit_info") if isinstance(results.get("commit_info"), dict) else {}
    same_commit = (info.get("id") or "") == commit
    run_time = utc(results.get("datetime"))
    recorded = suite.get("commit_time") if isinstance(suite.get("commit_time"), str) else None
    commit_time = utc(info.get("time")) if same_commit and info.get("time") else utc(recorded) or run_time
    if commit_time is None:
        raise results_io.ResultsError(f"{path}: records neither the commit's time nor the run's")
    version = code_version(suite)
    rows = [measurement(row, version) for row in results_io.frame(results).itertuples()]
    run = {
        "digest": content_digest(results),
        #: what runs stored before content digests were keyed by (checked, not stored)
        "file_digest": hashlib.sha256(path.read_bytes()).hexdigest(),
        "commit_id": commit,
        "parent_id": suite.get("parent"),
        "dirty": dirty,
        "branch": info.get("branch") if same_commit else None,
        "commit_time": commit_time,
        "run_time": run_time,
        "machine": machine or suite.get("machine") or default_machine(suite),
        "fingerprint": json.dumps(fingerprint(suite), sort_keys=True),
        "backend": suite.get("backend") or "tensorflow",
        "profile": suite["profile"],
        "environment": environment_key(suite),
        "versions": json.dumps({k: v for k, v in (suite.get("versions") or {}).items() if v}, sort_keys=True),
        "dataset": suite.get("dataset"),
        "trigger": trigger,
        "source": path.name,
        "partial": bool(suite.get("interrupted")),
    }
    return run, rows
