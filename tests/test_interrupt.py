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
from bench.report import build
from tests.support import swallowed_stop
from tests.support.processes import marked_processes, still_there

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


SELECTION = "cnn and (inference or latency) and not native"


def test_sigterm_keeps_finished_benchmarks_and_leaves_no_process(tmp_path):
    """SIGTERM while pytest's main thread is in a garbage-collector callback, where Python swallows the
    KeyboardInterrupt the stop raises (tests/support/swallowed_stop.py, as in JAX's callback): the next
    benchmark never starts, the finished one is kept, the run is marked partial, nothing is left running."""
    out, mark = tmp_path / "results.json", tmp_path / "in-callback"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", swallowed_stop.MARK_ENV: str(mark)}
    env.pop("BENCH_PROFILE", None)
    command = [sys.executable, "-m", "bench", "run", "--profile", "smoke", "--out", str(out),
               "-k", SELECTION, "--", "-p", "tests.support.swallowed_stop"]  # fmt: skip
    parent = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    child, deadline = None, time.monotonic() + 300
    while not mark.exists() and parent.poll() is None and time.monotonic() < deadline:
        child = child or next(iter(_children(parent.pid)), None)
        time.sleep(0.05)
    assert mark.exists() and child is not None, parent.communicate()[0][-3000:]
    parent.send_signal(signal.SIGTERM)
    output, _ = parent.communicate(timeout=120)
    assert parent.returncode == 128 + signal.SIGTERM, output[-3000:]
    assert "interrupted by SIGTERM" in output
    results = json.loads(out.read_text())
    assert [bench["fullname"] for bench in results["benchmarks"]] == [mark.read_text()], output[-3000:]
    assert results["machine_info"]["suite"]["interrupted"] == "SIGTERM after 1 finished benchmark(s)"
    left = still_there(lambda: _process_group_members(child), within=1)
    assert left == [], "the benchmark run left processes behind"

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
    # not a worker of this test run's xdist: pytest-benchmark would turn itself off in the inner run
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTEST_XDIST_")}, "PYTHONPATH": str(ROOT)}
    subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    if not plugin:
        assert not out.exists()
        return
    written = json.loads(out.read_text())
    assert [b["name"] for b in written["benchmarks"]] == ["test_done"]
    assert written["unfinished_benchmarks"] == ["test_interrupted_in_its_first_round"]


#: signals sent at random moments per CI run (BENCH_KILL_TRIALS=20: a campaign); each moment is printed
KILL_TRIALS = int(os.environ.get("BENCH_KILL_TRIALS", "1"))
KILL_WINDOW_S = (
    28.0  # the selection runs 20-25 s here, half of it imports and setup: moments past its end count too
)
#: train steps and batched predicts: rounds long enough for a signal to land inside one
RANDOM_SELECTION = "cnn and (train or inference) and not native"


def _signal_at_a_random_moment(tmp_path: Path, signum: int, delay: float) -> str:
    """Start bench run, send ``signum`` after ``delay`` seconds, and check what a user relies on; returns
    what the trial saw, for the campaign's tally."""
    out = tmp_path / "results.json"
    marker = f"BENCH_KILL_TRIAL_{os.getpid()}_{time.monotonic_ns()}"
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1", marker: "1"}
    env.pop("BENCH_PROFILE", None)
    command = [
        sys.executable,
        "-m",
        "bench",
        "run",
        "--profile",
        "smoke",
        "--out",
        str(out),
        "-k",
        RANDOM_SELECTION,
    ]
    run = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    time.sleep(delay)
    run.send_signal(signum)
    output, _ = run.communicate(timeout=180)
    seen = f"{signal.Signals(signum).name} at {delay:.2f} s: exit {run.returncode}"
    # a signal before Python installed its handler ends the interpreter by the signal (a shell shows 128 + n)
    assert run.returncode in (0, 128 + signum, -signum), seen + "\n" + output[-3000:]
    passed = {line.split("::")[-1].split()[0] for line in output.splitlines() if " PASSED" in line}
    written = json.loads(out.read_text()) if out.is_file() else None
    names = {b["name"] for b in written["benchmarks"]} if written else set()
    assert passed <= names, f"{seen}: finished but not in the file: {passed - names}\n{output[-3000:]}"
    if run.returncode != 0 and written is not None:
        assert written["machine_info"]["suite"]["interrupted"].startswith(signal.Signals(signum).name), seen
    assert not list(tmp_path.glob("*.writing")), seen
    assert still_there(lambda: marked_processes(marker)) == [], f"{seen}: processes left behind"
    return f"{seen}, {len(names)} kept, {len(passed)} had passed"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_at_any_moment_keeps_every_finished_benchmark_and_leaves_nothing_running(tmp_path, signum):
    """Setup, a first round, between benchmarks, while writing: the moment is random, every trial checked."""
    import random

    seed = int(os.environ.get("BENCH_KILL_SEED", time.time_ns() % 10**6))
    moments = random.Random(seed + signum).sample(range(int(KILL_WINDOW_S * 100)), KILL_TRIALS)
    tally = [
        _signal_at_a_random_moment(tmp_path / f"trial-{index}", signum, moment / 100)
        for index, moment in enumerate(sorted(moments))
        if not (tmp_path / f"trial-{index}").mkdir()
    ]
    print(f"seed {seed}:", *tally, sep="\n  ")


def test_a_results_file_cut_off_while_written_is_kept_aside_never_passed_off(tmp_path, capsys):
    from bench.core.results import ResultsError, load
    from bench.run.supervise import publish, writing_path

    out = tmp_path / "results.json"
    suite = {"profile": "smoke", "backend": "tensorflow", "dataset": "mnist-5k", "device": "CPU", "device_kind": "cpu",
             "cpu_model": "AMD EPYC"}  # fmt: skip
    whole = json.dumps({"benchmarks": [], "machine_info": {"suite": suite}})
    writing_path(out).write_text(whole[: len(whole) // 2])  # what a kill during the write leaves
    publish(writing_path(out), out)
    assert not out.exists() and (tmp_path / "results.json.truncated").is_file()
    assert "cut off while being written" in capsys.readouterr().err
    with pytest.raises(ResultsError, match="not valid JSON, perhaps truncated"):
        load(tmp_path / "results.json.truncated")
    writing_path(out).write_text(whole)
    publish(writing_path(out), out)
    assert load(out)["benchmarks"] == [] and not writing_path(out).exists()
