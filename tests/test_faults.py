"""Where bench run cannot write: one clear line and exit 2, and what was measured kept where it can be."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bench_run(out: Path, selection: str = "cnn-sequential and inference") -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONUNBUFFERED": "1"}
    env.pop("BENCH_PROFILE", None)
    command = [sys.executable, "-m", "bench", "run", "--profile", "smoke", "--out", str(out), "-k", selection]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def test_an_output_folder_that_cannot_be_made_is_one_line_and_exit_2(tmp_path):
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    run = _bench_run(a_file / "results.json")
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 2 and "Traceback" not in stderr
    assert _error_lines(stderr) == [f"error: cannot write results to {a_file}: not a folder"]


@pytest.fixture
def small_disk(tmp_path):
    """A tmpfs of 96 KiB (root and mount needed; skipped elsewhere, with the reason)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], capture_output=True)


def test_a_full_disk_before_the_run_is_one_line_and_exit_2(small_disk):
    (small_disk / "filler").write_bytes(b"\0" * 90_000)
    run = _bench_run(small_disk / "results.json")
    _, stderr = run.communicate(timeout=120)
    assert run.returncode == 2 and "Traceback" not in stderr
    assert _error_lines(stderr) == [f"error: cannot write results to {small_disk}: No space left on device"]


def test_a_disk_that_fills_during_the_run_keeps_the_results_elsewhere_and_says_where(small_disk):
    run = _bench_run(small_disk / "results.json")
    first = run.stdout.readline()  # printed after the room check: the disk fills from here on
    assert first.startswith("bench run: profile smoke"), first
    (small_disk / "filler").write_bytes(b"\0" * 90_000)
    _, stderr = run.communicate(timeout=180)
    assert run.returncode == 2, stderr[-2000:]
    (line,) = _error_lines(stderr)
    assert line.startswith(f"error: no room for the results in {small_disk}; what was measured is kept in ")
    kept = json.loads(Path(line.rsplit(" kept in ", 1)[1]).read_text())
    assert [b["name"] for b in kept["benchmarks"]] == ["test_inference_throughput[cnn-sequential]"]
    Path(line.rsplit(" kept in ", 1)[1]).unlink()
    time.sleep(0.1)
