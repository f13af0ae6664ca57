"""``bench run`` stopped by SIGTERM: finished benchmarks kept, marked partial, nothing left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bench.check.compare import compare_files
from reports import build

ROOT = Path(__file__).resolve().parent.parent


def _process_group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


SELECTION, SELECTED = "cnn and (inference or latency) and not native", 6


def test_sigterm_keeps_finished_benchmarks_and_leaves_no_process(tmp_path):
    out = tmp_path / "results.json"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}  # PASSED lines as they happen
    env.pop("BENCH_PROFILE", None)
    command = [sys.executable, "-m", "bench", "run", "--profile", "smoke", "--out", str(out),
               "-k", SELECTION]  # fmt: skip
    parent = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines, child = [], None
    deadline = time.monotonic() + 300
    passed = 0
    for line in parent.stdout:  # wait until a benchmark's teardown (which records it) is surely over
        lines.append(line)
        child = child or next(iter(_children(parent.pid)), None)
        passed += " PASSED" in line
        if passed == 1:
            break
        assert time.monotonic() < deadline, "".join(lines)
    assert child is not None
    parent.send_signal(signal.SIGTERM)
    rest, _ = parent.communicate(timeout=120)
    assert parent.returncode == 128 + signal.SIGTERM, "".join(lines) + rest
    assert "interrupted by SIGTERM" in rest
    assert out.is_file(), "".join(lines) + rest
    results = json.loads(out.read_text())
    finished = results["benchmarks"]
    assert 1 <= len(finished) < SELECTED
    assert (
        results["machine_info"]["suite"]["interrupted"]
        == f"SIGTERM after {len(finished)} finished benchmark(s)"
    )
    time.sleep(1)
    assert _process_group_members(child) == [], "the benchmark run left processes behind"

    # a file without capability probes: the report's probing (a minute or more) answered from a fixture
    assert "partial" in build.build_report([out], tmp_path / "r").read_text().lower()
    assert compare_files(out, out) == 0
