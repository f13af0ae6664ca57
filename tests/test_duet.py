"""Two runs side by side start each shared benchmark together (bench/check/duet/bench_duet.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.check import sidebyside

TESTS = """
import os, time

def test_a_slower_on_the_baseline():
    time.sleep(1.5 if os.environ["BENCH_DUET_SIDE"] == "baseline" else 0)

def test_b_records_its_start():
    with open(os.environ["START_LOG"] + os.environ["BENCH_DUET_SIDE"], "w") as log:
        log.write(repr(time.time()))
"""


def _start(
    tmp_path: Path, side: str, plugin: bool, timeout_s: str = "60", folder: str = "."
) -> subprocess.Popen:
    """One side's pytest run of TESTS, its file in ``folder`` under the run's root directory."""
    tests = tmp_path / folder / "test_pair.py"
    tests.parent.mkdir(parents=True, exist_ok=True)
    tests.write_text(TESTS)
    (tmp_path / "duet").mkdir(exist_ok=True)
    args, env = sidebyside.duet_run([], tmp_path / "duet", side)
    env = {**env, "START_LOG": str(tmp_path / "start-"), "BENCH_DUET_TIMEOUT_S": timeout_s}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(tests)]
    assert args[-2:] == ["-p", "bench_duet"]
    return subprocess.Popen(command + (args[-2:] if plugin else []), cwd=tmp_path, env=env)


def _starts(tmp_path: Path, plugin: bool, folders: tuple[str, str] = (".", ".")) -> float:
    runs = [_start(tmp_path, side, plugin, folder=f) for side, f in zip(("baseline", "checkout"), folders, strict=True)]
    assert [run.wait(timeout=120) for run in runs] == [0, 0]
    baseline, checkout = (
        float((tmp_path / f"start-{side}").read_text()) for side in ("baseline", "checkout")
    )
    return abs(baseline - checkout)


def test_each_shared_test_starts_in_both_runs_together(tmp_path):
    assert _starts(tmp_path, plugin=True) < 0.5


def test_runs_whose_suites_lie_in_different_folders_still_meet(tmp_path):
    """A baseline commit from before bench/ was split keeps its suite in bench/benchmarks/; the checkout's
    is in bench/suite/: the same test in both still starts together."""
    assert _starts(tmp_path, plugin=True, folders=("bench/benchmarks", "bench/suite")) < 0.5


def test_without_the_plugin_the_runs_drift_apart(tmp_path):
    assert _starts(tmp_path, plugin=False) > 1.0  # what the plugin prevents: the test above can fail


def test_a_run_whose_pair_never_comes_goes_on_alone(tmp_path):
    started = time.monotonic()
    run = _start(tmp_path, "checkout", plugin=True, timeout_s="2")
    assert run.wait(timeout=120) == 0
    assert (tmp_path / "start-checkout").is_file() and time.monotonic() - started < 60
    assert os.path.exists(tmp_path / "duet" / "checkout.tests")


def test_a_stopped_check_tells_a_run_waiting_for_its_pair_to_stop(tmp_path):
    """A run whose own stop was swallowed (an older commit's, without bench.suite.interrupts) waits for its
    pair, which has stopped: the check's stop tells it to stop too, and what finished is written as after any
    stop."""
    import signal

    import pytest

    from bench.check import stopping
    from bench.check.duet import bench_duet

    run = _start(tmp_path, "checkout", plugin=True, timeout_s="600")
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "duet" / "checkout.tests").exists() and time.monotonic() < deadline:
            time.sleep(0.05)  # collected, now waiting for the baseline's list
        with pytest.raises(stopping.Interrupted), stopping.stopped_cleanly_on_signals("test"):
            with stopping.also_on_stop(lambda: bench_duet.stop(tmp_path / "duet")):
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(5)
        assert run.wait(timeout=60) == 2  # pytest's exit status for an interrupted session
        assert not (tmp_path / "start-checkout").exists()
    finally:
        run.kill()
