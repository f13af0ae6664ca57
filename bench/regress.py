"""The CI regression check: the ci profile, compared only with a baseline measured on the same CPU model.

Kernels, and so speed ratios and even seeded accuracies, differ between CPU models;
a baseline recorded on one is never compared with a run on another.  Baselines live
in ``reports/baselines/ci-<backend>-<cpu>.json``.  Where none was recorded for this
machine's CPU model, the commit of another baseline is checked out in a git worktree
and measured here first, in the same job, so that the two runs compared share the
machine; that costs a second ci run and does not see a change of installed framework
versions (both runs use this environment), which a baseline for this CPU model does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench import results as results_io
from bench.machine import cpu_model, cpu_slug

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BASELINES = PROJECT_ROOT / "reports" / "baselines"
PROFILE = "ci"


class RegressError(ValueError):
    """The check cannot be made (no baseline at all, a commit git cannot check out)."""


def baseline_path(backend: str, cpu: str | None = None) -> Path:
    return BASELINES / f"{PROFILE}-{backend}-{cpu_slug(cpu)}.json"


def _bench_run(root: Path, out: Path, extra_args: list[str]) -> int:
    command = [sys.executable, "-m", "bench", "run", "--profile", PROFILE, "--out", str(out), *extra_args]
    return subprocess.run(command, cwd=root).returncode


def _git(*args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RegressError(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def _baseline_here(backend: str, out_dir: Path, extra_args: list[str]) -> Path:
    """Measure, on this machine, the commit another CPU model's baseline was recorded at."""
    others = sorted(BASELINES.glob(f"{PROFILE}-{backend}-*.json"))
    if not others:
        raise RegressError(f"no {PROFILE} baseline for backend {backend} in {BASELINES}")
    recorded = results_io.load(others[0])["machine_info"]["suite"]
    commit = (recorded.get("commit") or "").removesuffix("-dirty")
    if not commit:
        raise RegressError(f"{others[0]} records no commit to measure here")
    print(
        f"bench regress: no baseline recorded on {cpu_model()!r}; measuring {commit[:12]} (the commit of "
        f"{others[0].name}, recorded on {recorded.get('cpu_model')!r}) here first",
        flush=True,
    )
    worktree = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
    try:
        _git("worktree", "add", "--detach", str(worktree), commit)
        target = out_dir / "baseline-here.json"
        status = _bench_run(worktree, target, extra_args)
        if not target.is_file() or status not in (0, 1):
            raise RegressError(f"the baseline run of {commit[:12]} wrote no usable results (exit {status})")
        return target
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=PROJECT_ROOT,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(worktree, ignore_errors=True)


def regress(out_dir: str | Path, extra_args: list[str] | None = None) -> int:
    """Run the ci profile into ``out_dir`` and compare; exit status as :func:`bench.compare.compare_files`."""
    from bench.compare import compare_files

    extra_args = extra_args or []
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    baseline = baseline_path(backend)
    if not baseline.is_file():
        baseline = _baseline_here(backend, out_dir, extra_args)
    current = out_dir / "results.json"
    status = _bench_run(PROJECT_ROOT, current, extra_args)
    if not current.is_file():
        return status
    print(f"bench regress: {current.name} against {baseline}", flush=True)
    verdict = compare_files(baseline, current, markdown_out=str(out_dir / "COMPARE.md"))
    return verdict if status == 0 else max(verdict, 1)
