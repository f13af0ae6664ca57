"""What a results file records about where it was measured."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

import keras

from bench import backend_ops
from bench.profiles import Profile
from bench.reference import REFERENCE_VERSION

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:
        return None


def git_commit() -> str | None:
    """The checked-out commit (with "-dirty" when the tree has changes), or None outside git."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        # a copy of the tree without .git (e.g. on a leased GPU machine) names its commit here
        return os.environ.get("BENCH_COMMIT")


def describe(profile: Profile, dataset: str, dataset_note: str | None) -> dict:
    """The environment block stored in the results' machine_info["suite"]."""
    gpu = backend_ops.accelerator()
    return {
        "profile": profile.name,
        "settings": profile.to_dict(),
        "backend": backend_ops.backend_name(),
        "device": gpu or "CPU",
        "device_kind": "gpu" if gpu else "cpu",
        "cpu_model": backend_ops.cpu_model(),
        "cpu_threads": backend_ops.cpu_threads(),
        "python": platform.python_version(),
        "versions": {
            "keras": keras.__version__,
            "tensorflow": _version("tensorflow") if backend_ops.backend_name() == "tensorflow" else None,
            "jax": _version("jax") if backend_ops.backend_name() == "jax" else None,
            "torch": _version("torch") if backend_ops.backend_name() == "torch" else None,
            "numpy": _version("numpy"),
        },
        "dataset": dataset,
        "dataset_fallback": dataset_note,
        "seed": profile.seed,
        "commit": git_commit(),
        "reference_version": REFERENCE_VERSION,
        "hostname": platform.node(),
        "env": {
            key: os.environ[key]
            for key in ("KERAS_BACKEND", "BENCH_JIT", "BENCH_MIXED_PRECISION")
            if key in os.environ
        },
    }
