"""``bench regress`` and the evidence campaigns stopped by a signal: both runs stopped, no worktree left."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.processes import marked_processes, still_there

ROOT = Path(__file__).resolve().parent.parent


REGRESS_TRIALS = int(os.environ.get("BENCH_REGRESS_KILL_TRIALS", "1"))


def _worktrees() -> list[str]:
    listed = subprocess.run(
        ["git", "worktree", "list", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    )
    return [line for line in listed.stdout.splitlines() if line.startswith("worktree ")]


def _owner_of(line: str) -> int | None:
    """The pid that made a listed worktree (its owner file), None where none is recorded: checks in other test
    processes make worktrees of their own meanwhile."""
    path = Path(line.removeprefix("worktree "))
    try:
        return int(path.with_name(path.name + ".owner").read_text())
    except (OSError, ValueError):
        return None


def test_a_signal_to_bench_regress_stops_both_runs_and_removes_the_worktree(tmp_path):
    """SIGTERM at a random moment of a small real check (the committed baseline's commit and this checkout,
    side by side): exit 143, no process of either run left, no worktree left, finished results kept."""
    seed = int(os.environ.get("BENCH_KILL_SEED", time.time_ns() % 10**6))
    before = _worktrees()
    tally = []
    rng = random.Random(seed)  # the small check below takes 16-18 s here: moments inside it
    for trial, delay in enumerate(sorted(rng.uniform(0.5, 15) for _ in range(REGRESS_TRIALS))):
        out = tmp_path / f"check-{trial}"
        marker = f"BENCH_REGRESS_TRIAL_{os.getpid()}_{time.monotonic_ns()}"
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", marker: "1"}
        env.pop("BENCH_PROFILE", None)
        command = [
            sys.executable,
            "-m",
            "bench",
            "regress",
            "--out",
            str(out),
            "-k",
            "cnn-sequential and inference",
        ]
        check = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        time.sleep(delay)
        check.send_signal(signal.SIGTERM)
        output, _ = check.communicate(timeout=300)
        seen = f"SIGTERM at {delay:.1f} s: exit {check.returncode}"
        assert check.returncode in (0, 1, 128 + signal.SIGTERM, -signal.SIGTERM), seen + "\n" + output[-3000:]
        left = still_there(lambda: marked_processes(marker))
        assert left == [], f"{seen}: processes left behind\n{output[-3000:]}"
        left = [line for line in _worktrees() if line not in before and _owner_of(line) in (check.pid, None)]
        assert left == [], f"{seen}: a worktree left behind\n{output[-3000:]}"
        kept = sorted(p.name for p in out.glob("*.json")) if out.is_dir() else []
        for path in out.glob("*.json") if out.is_dir() else []:
            json.loads(path.read_text())  # whole, never cut off
        tally.append(f"{seen}, kept {kept}")
    print(f"seed {seed}:", *tally, sep="\n  ")


def test_a_worktree_left_by_a_killed_check_is_removed_by_the_next_and_a_live_one_kept(tmp_path, monkeypatch):
    from bench.check import checkouts

    # a prefix of this test's own: a check in another test process cleans up the usual ones meanwhile
    monkeypatch.setattr(checkouts, "WORKTREE_PREFIX", f"bench-kill-test-{os.getpid()}-")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    made = {}
    for owner, pid in (("dead", gone.pid), ("live", os.getpid())):
        path = Path(tempfile.mkdtemp(prefix=checkouts.WORKTREE_PREFIX, dir=tmp_path))
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(path), head], cwd=ROOT, capture_output=True, check=True
        )
        path.with_name(path.name + ".owner").write_text(str(pid))
        made[owner] = path
    try:
        removed = checkouts.remove_stale_worktrees()
        assert made["dead"] in removed and not made["dead"].exists()
        assert made["live"].exists() and any(str(made["live"]) in line for line in _worktrees())
        assert not any(str(made["dead"]) in line for line in _worktrees())
    finally:
        for path in made.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, capture_output=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def test_a_signal_to_an_evidence_campaign_stops_its_runs_and_starts_no_more(tmp_path):
    """SIGTERM while a campaign's first pair runs side by side: exit 143, nothing of it left running, and the
    pairs still queued never start."""
    marker = f"BENCH_CAMPAIGN_TRIAL_{os.getpid()}_{time.monotonic_ns()}"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", marker: "1"}
    env.pop("BENCH_PROFILE", None)
    command = [sys.executable, "-m", "bench.evidence", "run", "--out", str(tmp_path), "--repetitions", "1",
               "--variants", "a-a", "--workers", "2"]  # fmt: skip
    campaign = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(8)
    campaign.send_signal(signal.SIGTERM)
    _, stderr = campaign.communicate(timeout=200)
    assert campaign.returncode == 128 + signal.SIGTERM, stderr[-3000:]
    assert "bench.evidence: interrupted by SIGTERM" in stderr
    assert still_there(lambda: marked_processes(marker)) == []
    runs = sorted((tmp_path / "runs").glob("*.json"))
    assert len(runs) <= 2  # the first pair at most: the five pairs queued behind it never started
    for path in runs:
        json.loads(path.read_text())
