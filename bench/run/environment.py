"""What a results file records about where it was measured."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
from pathlib import Path

import keras

import implementations
from bench.core.paths import PROJECT_ROOT
from bench.core.profiles import Profile
from bench.run import backend_ops
from bench.run.reference import REFERENCE_VERSION


def _version(module: str) -> str | None:
    try:
        return __import__(module).__version__
    except Exception:
        return None


def _git(*args: str, where: Path = PROJECT_ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=where, capture_output=True, text=True, check=True
    ).stdout.rstrip("\n")  # porcelain lines start with a space


def measured_tree() -> Path:
    """The tree whose commit a run records: the folder of the user's models files (their repository) when
    ``bench run --models`` gave some, else this project's."""
    folders = [implementations.model_set(arch).folder for arch in implementations.ARCHS]
    own = [folder for folder in folders if folder]
    return Path(own[0]) if own and os.environ.get(implementations.MODELS_ENV) else PROJECT_ROOT


def checkout() -> dict:
    """The commit ("-dirty" when tracked files have changes), its time and those files, from one look at the
    tree (:func:`measured_tree`).

    Taken when a run starts, since the tree may change during it.  Outside git the commit is
    $BENCH_COMMIT (a copy of the tree on a leased GPU machine names its commit there).
    """
    where = measured_tree()
    try:
        commit = _git("rev-parse", "HEAD", where=where)
        status = _git("status", "--porcelain", "--untracked-files=no", where=where)
        commit_time = _git("show", "-s", "--format=%cI", "HEAD", where=where)
    except (OSError, subprocess.CalledProcessError):
        return {"commit": os.environ.get("BENCH_COMMIT"), "changed_paths": [], "parent": None}
    changed = [line[3:] for line in status.splitlines()]
    try:
        parent = _git("rev-parse", "--verify", "--quiet", "HEAD^", where=where)
    except subprocess.CalledProcessError:
        parent = None  # the first commit
    return {"commit": commit + ("-dirty" if changed else ""), "changed_paths": changed, "parent": parent,
            "commit_time": commit_time}  # fmt: skip


def models() -> list[dict]:
    """What a run of users' models files measured: each set's name, file and source digest."""
    if not os.environ.get(implementations.MODELS_ENV):
        return []
    return [{"name": arch, "file": implementations.model_set(arch).origin,
             "digest": implementations.model_set(arch).digest(), "apis": list(implementations.model_set(arch).apis),
             "data": implementations.model_set(arch).data is not None}
            for arch in implementations.ARCHS]  # fmt: skip


#: the code that decides what a benchmark measures and how: when it changes, the history starts a new series
MEASURING_CODE = ("bench/suite/test_speed.py", "bench/suite/test_accuracy.py", "bench/suite/conftest.py",
                  "bench/run/timing.py", "bench/run/reference.py", "bench/run/steps.py", "bench/core/profiles.py",
                  "implementations/native")  # fmt: skip


def benchmark_code() -> str:
    """A digest of :data:`MEASURING_CODE`'s files (the models measured are not in it: they are the code
    under test, whose slowdowns a series is there to show)."""
    digest = hashlib.sha256()
    for name in MEASURING_CODE:
        path = PROJECT_ROOT / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            if file.is_file():
                digest.update(file.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:12]


def git_commit() -> str | None:
    """The checked-out commit, with "-dirty" when tracked files have changes; see checkout()."""
    return checkout()["commit"]


def describe(profile: Profile, dataset: str, dataset_note: str | None, at_start: dict | None = None) -> dict:
    """The environment block stored in the results' machine_info["suite"].

    ``at_start`` is checkout() from the start of the run: the commit recorded is the one measured,
    with a note when the checkout changed before the results were written.
    """
    at_end = checkout()
    at_start = at_start or at_end
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
        "commit": at_start["commit"],
        "commit_time": at_start.get("commit_time"),
        "changed_paths": at_start["changed_paths"],
        #: users' models files measured (bench run --models); their repository's commit is "commit"
        **({"models": models()} if models() else {}),
        "parent": at_start.get("parent"),
        #: the name the history files this run under ($BENCH_MACHINE; else derived from the CPU and device)
        "machine": os.environ.get("BENCH_MACHINE") or None,
        "benchmark_code": benchmark_code(),
        **(
            {"commit_note": f"the checkout changed during the run, to {at_end['commit']}"}
            if at_end["commit"] != at_start["commit"]
            else {}
        ),
        "reference_version": REFERENCE_VERSION,
        "hostname": platform.node(),
        "env": {
            key: os.environ[key]
            for key in (
                "KERAS_BACKEND",
                "BENCH_JIT",
                "BENCH_MIXED_PRECISION",
                "TF_NUM_INTRAOP_THREADS",
                "TF_NUM_INTEROP_THREADS",
                "OMP_NUM_THREADS",
                "XLA_FLAGS",
                "TF_ENABLE_ONEDNN_OPTS",  # 0: TensorFlow's CPU kernels from Eigen instead of oneDNN
            )
            if key in os.environ
        },
    }
