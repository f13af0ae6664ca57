"""bench bisect: the first bad commit by side-by-side probes, "no regression" where there is none, never a
guess where a probe cannot decide; bad commits refused with one line."""

from __future__ import annotations

import json
import os
import subprocess
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.__main__ import main
from bench.check import bisect, checkouts, sidebyside
from bench.history.schema import runs as runs_table
from bench.history.store import open_store
from tests.support.results import TRAIN, synthetic_results

COMMITS = [f"c{number}" for number in range(8)]


@pytest.mark.parametrize("culprit", range(8))
def test_the_search_names_the_first_bad_commit_wherever_it_is(culprit):
    probed = []

    def probe(commit):
        probed.append(commit)
        return bisect.BAD if COMMITS.index(commit) >= culprit else bisect.GOOD

    outcome, lo, hi = bisect.search(COMMITS, probe)
    assert (outcome, hi, lo) == (bisect.BAD, culprit, culprit - 1)
    assert len(probed) <= 4  # the last commit, then log2(8)


def test_no_slowdown_and_an_undecided_probe_are_said_as_such():
    assert bisect.search(COMMITS, lambda commit: bisect.GOOD)[0] == bisect.GOOD
    answers = {"c7": bisect.BAD, "c3": bisect.OPEN}
    assert bisect.search(COMMITS, lambda commit: answers.get(commit, bisect.GOOD)) == (bisect.OPEN, -1, 7)


def _git(*args):
    return subprocess.run(["git", *args], cwd=sidebyside.PROJECT_ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip


class SlowFrom:
    """bench run, faked: a run of a commit at or after ``culprit`` has a train step ``factor`` slower."""

    def __init__(self, culprit: str | None, factor: float = 1.10):
        self.culprit, self.factor = culprit, factor

    def __call__(self, root, out, extra_args, python=None, env=None) -> int:
        head = _git("-C", str(root), "rev-parse", "HEAD")
        slow = (
            self.culprit is not None
            and subprocess.run(
                ["git", "merge-base", "--is-ancestor", self.culprit, head], cwd=sidebyside.PROJECT_ROOT
            ).returncode
            == 0
        )
        # both sides of a pair draw the same rounds (the pair's file names, less which side): only the planted
        # slowdown tells them apart, whatever order the two threads start in
        pair = f"{out.parent.name}/{out.name.replace('baseline', '').replace('results', '')}"
        results = synthetic_results(500 + zlib.crc32(pair.encode()) % 10_000,
                                    slowdown={TRAIN: self.factor} if slow else None)  # fmt: skip
        results["machine_info"]["suite"]["profile"] = "ci"
        out.write_text(json.dumps(results))
        return 0


def _history_path() -> list[str]:
    listed = _git("rev-list", "--first-parent", "--reverse", "HEAD~6..HEAD").split()
    if len(listed) < 6:
        pytest.skip("the clone has fewer than 6 commits of history")
    return listed


def test_bisect_names_the_commit_that_slowed_the_train_step(monkeypatch, tmp_path, capsys):
    path = _history_path()
    monkeypatch.setattr(sidebyside, "bench_run", SlowFrom(path[3]))
    assert main(["bisect", path[0] + "~1", path[-1], "--out", str(tmp_path / "out")]) == 1
    out = capsys.readouterr().out
    assert f"first bad commit {path[3]}" in out
    with open_store(None).connect() as connection:  # every probe's runs went into the history
        triggers = connection.execute(select(runs_table.c.trigger)).scalars().all()
    assert triggers and set(triggers) == {"bisect"}
    assert not _own_worktrees()


def _own_worktrees() -> list[str]:
    """The baseline worktrees this process made and still has (a check in another test process may have its own)."""
    listed = [Path(line.removeprefix("worktree ")) for line in _git("worktree", "list", "--porcelain").splitlines()
              if line.startswith("worktree ")]  # fmt: skip
    mine = []
    for path in listed:
        try:
            owner = int(checkouts._owner(path).read_text())
        except (OSError, ValueError):
            owner = None
        if path.name.startswith(checkouts.WORKTREE_PREFIX) and owner in (os.getpid(), None):
            mine.append(str(path))
    return mine


def test_bisect_over_a_history_without_a_slowdown_says_so(monkeypatch, tmp_path, capsys):
    path = _history_path()
    monkeypatch.setattr(sidebyside, "bench_run", SlowFrom(None))
    assert main(["bisect", path[0], path[-1], "--out", str(tmp_path / "out")]) == 0
    assert f"no regression between {path[0][:12]} and {path[-1][:12]}" in capsys.readouterr().out


BAD_COMMITS = [
    ("nosuchcommit", "HEAD", "git does not know the commit 'nosuchcommit'"),
    ("HEAD", "HEAD~2", "is not an ancestor of"),
]


@pytest.mark.parametrize("good, bad, message", BAD_COMMITS)
def test_a_commit_git_does_not_know_is_one_line_and_exit_2(tmp_path, capsys, good, bad, message):
    assert main(["bisect", good, bad, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and message in err
