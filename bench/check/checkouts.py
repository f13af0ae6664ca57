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


def git(*args: str, repo: Path = PROJECT_ROOT) -> str:
    """git ``args`` in ``repo`` (this project's tree by default); CheckError with git's message."""
    completed = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
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


def remove_stale_worktrees(repo: Path = PROJECT_ROOT) -> list[Path]:
    """Remove the baseline worktrees that an earlier check, killed before it could, left behind (its
    process is gone), and prune git's records of any whose folder is gone; the ones removed."""
    git("worktree", "prune", repo=repo)
    removed = []
    for line in git("worktree", "list", "--porcelain", repo=repo).splitlines():
        path = Path(line.removeprefix("worktree ")) if line.startswith("worktree ") else None
        if path is None or not path.name.startswith(WORKTREE_PREFIX):
            continue
        try:
            pid = int(_owner(path).read_text())
        except (OSError, ValueError):
            pid = None  # no owner recorded: made before owners were, or cut off while made
        if pid is not None and _alive(pid):
            continue  # another check running now
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=repo,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(path, ignore_errors=True)
        _owner(path).unlink(missing_ok=True)
        removed.append(path)
    if removed:
        git("worktree", "prune", repo=repo)
        print(f"bench regress: removed {len(removed)} baseline worktree(s) left by an earlier, killed check",
              flush=True)  # fmt: skip
    return removed


class BaselineCheckout(NamedTuple):
    """One side of a pair: a commit checked out here, the python that runs it, and what its ``bench run``
    is given beyond the check's own arguments (a user's models files in that checkout)."""

    worktree: Path
    python: str
    commit: str
    args: tuple[str, ...] = ()


@contextmanager
def worktree_of(commit: str, repo: Path = PROJECT_ROOT):
    """A git worktree of ``commit`` of ``repo`` for as long as the block runs (owned by this process, removed
    after)."""
    remove_stale_worktrees(repo)
    worktree = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    _owner(worktree).write_text(str(os.getpid()))  # whose it is, before git knows it: a check beside this one
    try:  # must never take it for a killed check's
        git("worktree", "add", "--detach", str(worktree), commit, repo=repo)
        yield worktree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=repo,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(worktree, ignore_errors=True)
        _owner(worktree).unlink(missing_ok=True)
        subprocess.run(["git", "worktree", "prune"], cwd=repo, capture_output=True)


def here() -> BaselineCheckout:
    """The checkout itself, as the current side of a pair."""
    return BaselineCheckout(PROJECT_ROOT, sys.executable, "the checkout")


class ModelsRepository(NamedTuple):
    """Users' models files in their own git repository: what ``regress`` and ``bisect --models`` check out."""

    root: Path
    files: tuple[str, ...]  # paths inside the repository

    @classmethod
    def of(cls, files: list[str]) -> ModelsRepository:
        """The repository holding every one of ``files``; CheckError where one is missing or outside git."""
        roots, inside = set(), []
        for name in files:
            path = Path(name).expanduser().resolve()
            if not path.is_file():
                raise CheckError(f"models file {name} does not exist")
            try:
                root = Path(git("rev-parse", "--show-toplevel", repo=path.parent)).resolve()
            except CheckError:
                raise CheckError(f"models file {name} is not inside a git repository: regress and bisect "
                                 "check out its commits") from None  # fmt: skip
            roots.add(root)
            inside.append(path.relative_to(root).as_posix())
        if len(roots) > 1:
            raise CheckError(f"the models files lie in {len(roots)} git repositories; give files of one")
        return cls(roots.pop(), tuple(inside))

    def resolve(self, ref: str) -> str:
        """The full id of ``ref`` in the repository; CheckError when git does not know it."""
        try:
            return git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", repo=self.root)
        except CheckError:
            raise CheckError(f"git does not know the commit {ref!r} in {self.root}") from None

    def side(self, tree: Path, commit: str) -> BaselineCheckout:
        """The side of a pair that measures the files as ``tree`` (a worktree of ``commit``, or the root) has
        them, with this suite's python."""
        return BaselineCheckout(tree, sys.executable, commit, ("--models", *(str(tree / f) for f in self.files)))

    def current(self) -> BaselineCheckout:
        """The user's working tree as it is: the current side of a check."""
        return self.side(self.root, "the checkout")
