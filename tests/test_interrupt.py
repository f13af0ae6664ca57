"""``bench run`` stopped by SIGTERM: finished benchmarks kept, marked partial, nothing left running."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


BENCHMARKS_ONE_INTERRUPTED = """
def test_done(benchmark):
    benchmark.pedantic(lambda: None, rounds=3)


def test_interrupted_in_its_first_round(benchmark):
    def body():
        raise KeyboardInterrupt  # what pytest makes of the SIGINT bench run sends

    benchmark.pedantic(body, rounds=3)
"""


@pytest.mark.parametrize("plugin", [True, False])
def test_a_benchmark_interrupted_before_its_first_round_costs_none_of_the_finished(tmp_path, plugin):
    """pytest-benchmark's writer fails on a benchmark with no round and writes nothing (the second case, what
    bench.suite.partial prevents); with the plugin, the finished benchmark is written and the other named."""
    (tmp_path / "test_two.py").write_text(BENCHMARKS_ONE_INTERRUPTED)
    out = tmp_path / "out.json"
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--benchmark-json={out}",
               *(["-p", "bench.suite.partial"] if plugin else []), "test_two.py"]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    if not plugin:
        assert not out.exists()
        return
    written = json.loads(out.read_text())
    assert [b["name"] for b in written["benchmarks"]] == ["test_done"]
    assert written["unfinished_benchmarks"] == ["test_interrupted_in_its_first_round"]
