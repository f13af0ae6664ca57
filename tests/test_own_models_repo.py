"""A user's own repository: six commits of a models file, one of which widens a layer.

``bench regress --models`` on the widening commit fails and names the benchmark, on a docs-only commit it
passes; ``bench bisect --models`` names the widening commit; ``bench history add`` and ``changes`` over two
runs of every commit place the change there.  Minutes of side-by-side runs: ``tox -e own-models`` (in CI).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MODEL = textwrap.dedent("""
    import keras
    from keras import layers

    NAME = "usermodel"
    WIDTH = {width}


    def functional():
        image = keras.Input((32, 32, 3))
        x = layers.Conv2D(WIDTH, 3, padding="same", activation="relu")(image)
        x = layers.Conv2D(48, 3, padding="same", activation="relu")(x)
        x = layers.GlobalAveragePooling2D()(x)
        return keras.Model(image, layers.Dense(10)(x))
""")
SELECT = "train_throughput"
BENCHMARK = "test_train_throughput[usermodel-functional]"
#: runs recorded per commit: the change must pass Welch's t-test at p < 0.001 between the runs on its two
#: sides, which one run on each of three commits (two to four degrees of freedom) reaches only for a step
#: many times the run-to-run noise (docs/history.md, "Change points")
RUNS_PER_COMMIT = 2


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-c", "user.name=u", "-c", "user.email=u@example.com", *args], cwd=repo,
                          capture_output=True, text=True, check=True)  # fmt: skip
    return done.stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> tuple[Path, list[str]]:
    """The user's repository and its six commits, oldest first; the fourth widens the first convolution."""
    root = tmp_path_factory.mktemp("user-repo")
    _git(root, "init", "-q", "-b", "main")
    commits = []
    for number in range(1, 7):
        width = 37 if number >= 4 else 32  # a sixth more filters: about a fifth more time per step
        (root / "model.py").write_text(MODEL.format(width=width))
        (root / "README.md").write_text(f"notes, revision {number}\n")
        subject = "Widen the first convolution" if number == 4 else f"Docs revision {number}"
        _git(root, "add", ".")
        _git(root, "commit", "-qm", subject)
        commits.append(_git(root, "rev-parse", "HEAD"))
    return root, commits


def _bench(repo: Path, *args: str) -> subprocess.CompletedProcess:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "bench", *args], cwd=repo, capture_output=True, text=True,
                          env={**os.environ, "BENCH_HISTORY_DB": f"sqlite:///{repo.parent / 'history.sqlite'}"})
    print(f"bench {args[0]}: exit {done.returncode} in {time.monotonic() - started:.0f} s")
    return done


def test_regress_fails_on_the_widening_commit_and_names_the_benchmark(repo):
    root, commits = repo
    _git(root, "checkout", "-q", commits[3])
    done = _bench(root, "regress", "--models", "model.py", "--out", str(root.parent / "regress-4"), "-k", SELECT)
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert BENCHMARK in done.stdout and "regression" in done.stdout


def test_regress_passes_on_a_docs_only_commit(repo):
    root, commits = repo
    _git(root, "checkout", "-q", commits[4])
    done = _bench(root, "regress", "--models", "model.py", "--out", str(root.parent / "regress-5"), "-k", SELECT)
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def test_bisect_names_the_widening_commit(repo):
    root, commits = repo
    _git(root, "checkout", "-q", "main")
    done = _bench(root, "bisect", commits[0], commits[5], "--models", "model.py", "-k", SELECT,
                  "--out", str(root.parent / "bisect"))  # fmt: skip
    assert done.returncode == 1, (done.stdout + done.stderr)[-3000:]
    assert f"first bad commit {commits[3]} (Widen the first convolution)" in done.stdout


def test_history_places_the_change_at_the_widening_commit(repo):
    root, commits = repo
    db = f"sqlite:///{root.parent / 'series.sqlite'}"
    files = []
    for number, commit in enumerate(commits, start=1):
        _git(root, "checkout", "-q", commit)
        for repeat in range(RUNS_PER_COMMIT):
            out = root.parent / f"run-{number}-{repeat}.json"
            done = _bench(root, "run", "--profile", "ci", "--models", "model.py", "--out", str(out),
                          "-k", SELECT)  # fmt: skip
            assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
            files.append(str(out))
    assert _bench(root, "history", "add", *files, "--db", db).returncode == 0
    changes = _bench(root, "history", "changes", "--db", db)
    assert changes.returncode == 1, changes.stderr  # the newest change of a series is a slowdown
    rows = [line for line in changes.stdout.splitlines() if line.startswith(f"| {BENCHMARK}")]
    assert len(rows) == 1 and f"| {commits[2][:12]}..{commits[3][:12]} |" in rows[0], changes.stdout
    assert f"at {commits[3][:12]}" in changes.stdout
