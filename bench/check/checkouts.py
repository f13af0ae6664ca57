"""A commit checked out to be measured beside the checkout: its git worktree and its Python environment.

A worktree is made in the system's temporary folder with an ``.owner`` file beside it that names the process
that made it; a check killed outright leaves its worktree behind, and the next check removes those whose owner
is gone (:func:`remove_stale_worktrees`).  The environment reproduces the framework versions a baseline was
recorded with, built once into the check's output folder.  Used by ``bench regress``, ``bench bisect`` and the
evidence campaigns alike.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from bench.core.paths import PROJECT_ROOT

#: the distributions whose versions a baseline run reproduces, per backend
PINNED = {"tensorflow": ("keras", "tensorflow", "numpy"), "jax": ("keras", "jax", "jaxlib", "numpy"),
          "torch": ("keras", "torch", "numpy")}  # fmt: skip
EXTRAS = {"tensorflow": "", "jax": "[jax]", "torch": "[torch]"}


class CheckError(ValueError):
    """A check cannot be made (no baseline at all, a commit git cannot check out, an environment pip cannot
    build, a run that wrote no results)."""


def git(*args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        raise CheckError(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def version_pins(recorded: dict, backend: str) -> dict[str, str]:
    """The recorded versions of what a baseline run must reproduce (those recorded at all)."""
    versions = recorded.get("versions") or {}
    if backend == "jax" and versions.get("jax"):
        versions = {**versions, "jaxlib": versions.get("jaxlib") or versions["jax"]}
    return {name: versions[name] for name in PINNED.get(backend, ()) if versions.get(name)}


def versions_differ(pins: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """name -> (recorded, installed) for each pinned distribution this environment has at another version."""
    differ = {}
    for name, wanted in pins.items():
        have = installed_version(name)
        if have is None or have.split("+")[0] != wanted.split("+")[0]:
            differ[name] = (wanted, have)
    return differ


def _pip(python: Path, *args: str) -> None:
    """pip install ``args`` into ``python``'s environment, without byte-compiling every module (tox.ini)."""
    completed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", *args])
    if completed.returncode != 0:
        raise CheckError(f"pip could not install {' '.join(args)} (exit {completed.returncode})")


def baseline_environment(worktree: Path, pins: dict[str, str], backend: str, where: Path) -> str:
    """A virtual environment with the baseline commit's dependencies at the recorded versions; its python."""
    python, constraints = where / "bin" / "python", where / "constraints.txt"
    wanted = "".join(f"{name}=={version}\n" for name, version in pins.items())
    if python.is_file() and constraints.is_file() and constraints.read_text() == wanted:
        return str(python)  # built by an earlier check into the same out_dir
    # --clear empties the folder, constraints.txt with it; it comes back only once pip has made the
    # environment whole, so one cut off while built is never taken for it
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(where)], check=True)
    building = where / "constraints.building"
    building.write_text(wanted)
    _pip(python, "-c", str(building), f"{worktree}{EXTRAS.get(backend, '')}")
    building.replace(constraints)
    return str(python)


WORKTREE_PREFIX = "bench-baseline-"


def _owner(worktree: Path) -> Path:
    """The file beside a worktree (not in it: the baseline's run would see an uncommitted file) that holds
    the pid of the check that made it."""
    return worktree.with_name(worktree.name + ".owner")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_worktrees() -> list[Path]:
    """Remove the baseline worktrees that an earlier check, killed before it could, left behind (its
    process is gone), and prune git's records of any whose folder is gone; the ones removed."""
    git("worktree", "prune")
    removed = []
    for line in git("worktree", "list", "--porcelain").splitlines():
        path = Path(line.removeprefix("worktree ")) if line.startswith("worktree ") else None
        if path is None or not path.name.startswith(WORKTREE_PREFIX):
            continue
        try:
            pid = int(_owner(path).read_text())
        except (OSError, ValueError):
            pid = None  # no owner recorded: made before owners were, or cut off while made
        if pid is not None and _alive(pid):
            continue  # another check running now
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=PROJECT_ROOT,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(path, ignore_errors=True)
        _owner(path).unlink(missing_ok=True)
        removed.append(path)
    if removed:
        git("worktree", "prune")
        print(f"bench regress: removed {len(removed)} baseline worktree(s) left by an earlier, killed check",
              flush=True)  # fmt: skip
    return removed


class BaselineCheckout(NamedTuple):
    """The baseline's commit checked out here, and the python that runs it at the recorded versions."""

    worktree: Path
    python: str
    commit: str


@contextmanager
def worktree_of(commit: str):
    """A git worktree of ``commit`` for as long as the block runs (owned by this process, removed after)."""
    remove_stale_worktrees()
    worktree = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    _owner(worktree).write_text(str(os.getpid()))  # whose it is, before git knows it: a check beside this one
    try:  # must never take it for a killed check's
        git("worktree", "add", "--detach", str(worktree), commit)
        yield worktree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=PROJECT_ROOT,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(worktree, ignore_errors=True)
        _owner(worktree).unlink(missing_ok=True)
        subprocess.run(["git", "worktree", "prune"], cwd=PROJECT_ROOT, capture_output=True)


def here() -> BaselineCheckout:
    """The checkout itself, as the current side of a pair."""
    return BaselineCheckout(PROJECT_ROOT, sys.executable, "the checkout")
