"""A benchmark run under supervision: pytest in its own process group, stopped cleanly on SIGTERM or Ctrl-C.

``bench run`` (and each top-up) starts pytest on the suite (:mod:`bench.suite`) through
:func:`measure`.  On a signal the whole group gets SIGINT, which pytest turns into
KeyboardInterrupt (even where a library swallowed it: :mod:`bench.suite.interrupts`) so that
pytest-benchmark still writes the benchmarks that finished;
:func:`interrupted` then marks the results file partial.  Nothing of the run (its probes
included) outlives it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.core.paths import PROJECT_ROOT, SUITE
from bench.core.process_groups import on_stop_signals, restore, signal_group
from bench.core.results import rewrite
from bench.run.timing import thread_environment

#: names, for bench.suite.partial in the pytest process, where results go that their own folder cannot take
FALLBACK_ENV = "BENCH_FALLBACK_JSON"
INTERRUPT_GRACE_S = 60  # after a signal, how long the child may take to write what it finished
#: the first SIGTERM or SIGINT this process received (``bench run`` records them for its whole life)
_RECEIVED: list[int] = []


def record_signals() -> None:
    """From now on, SIGTERM and SIGINT are recorded instead of ending the process where it stands: between
    two runs of pytest, no further run starts (:func:`supervise`) and the caller ends cleanly."""

    def record(signum, _frame):
        if not _RECEIVED:
            _RECEIVED.append(signum)
            print(f"\nbench run: {signal.Signals(signum).name} received, stopping", flush=True)

    on_stop_signals(record)


def pending_signal() -> int | None:
    """The signal recorded so far, or None."""
    return _RECEIVED[0] if _RECEIVED else None


def measure(
    profile_name: str, profile, out: Path, selection: str | None, pytest_args: list[str], extra_env: dict
) -> tuple[int, int | None]:
    """Run the benchmarks (pytest, supervised) into ``out``; (exit status, interrupting signal or None).

    pytest-benchmark writes to a file beside ``out`` that replaces ``out`` only once it is whole
    (:func:`publish`): a run killed while writing never leaves a truncated ``out``."""
    writing = writing_path(out)
    writing.unlink(missing_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(SUITE),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",  # timed rounds run one at a time: with xdist loaded, pytest-benchmark turns itself off
        "-p",
        "bench.suite.partial",  # a benchmark interrupted before its first round never costs the finished ones
        "-p",
        "bench.suite.interrupts",  # a SIGINT that a library swallowed still stops the run
        "-o",
        "addopts=",
        "-v",
        "--rootdir",
        str(PROJECT_ROOT),
        f"--benchmark-json={writing}",
        "--benchmark-save-data",
        "--benchmark-columns=median,iqr,rounds",
        "--benchmark-sort=name",
    ]
    if selection:
        command += ["-k", selection]
    command += pytest_args
    env = {
        # not a worker of an outer pytest-xdist run (the tests): pytest-benchmark would turn itself off
        **{name: value for name, value in os.environ.items() if not name.startswith("PYTEST_XDIST_")},
        **thread_environment(profile.threads),
        "BENCH_PROFILE": profile_name,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **extra_env,
    }
    fallback = fallback_path(out)
    fallback.unlink(missing_ok=True)
    returncode, signum = supervise(command, {**env, FALLBACK_ENV: str(fallback)})
    publish(writing, out)
    return returncode, signum


def fallback_path(out: Path) -> Path:
    """Where the results of ``out`` go when its folder cannot take them (bench.suite.partial)."""
    return Path(tempfile.gettempdir()) / f"bench-results-{os.getpid()}-{out.name}"


def writing_path(out: Path) -> Path:
    """Where pytest-benchmark writes ``out`` before it is whole."""
    return out.with_name(out.name + ".writing")


def publish(writing: Path, out: Path) -> None:
    """Move a whole results file into place; one cut off mid-write is kept aside as ``*.truncated`` and
    named, never passed off as ``out``."""
    if not writing.is_file():
        return
    try:
        json.loads(writing.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        kept = out.with_name(out.name + ".truncated")
        writing.replace(kept)
        print(f"bench run: the results file was cut off while being written; kept as {kept}", file=sys.stderr)
        return
    writing.replace(out)


def supervise(command: list[str], env: dict) -> tuple[int, int | None]:
    """Run pytest in its own process group; on SIGTERM or SIGINT, interrupt it and wait for its results.

    pytest turns SIGINT into KeyboardInterrupt and pytest-benchmark still writes the
    benchmarks that finished; a child (or a probe of it) that outlives the grace period is killed.
    Returns (exit status, the signal received or None).
    """
    if _RECEIVED:  # stopped before this run could start: start nothing
        return 1, _RECEIVED[0]
    received: list[tuple[int, float]] = []
    child: subprocess.Popen | None = None

    def interrupt(signum, _frame):
        if not received:
            received.append((signum, time.monotonic()))
            if not _RECEIVED:
                _RECEIVED.append(signum)
            print(f"\nbench run: {signal.Signals(signum).name} received, stopping the benchmarks", flush=True)
            if child is not None:
                signal_group(child.pid, signal.SIGINT)

    previous = on_stop_signals(interrupt)
    if _RECEIVED and not received:  # came between the check above and this handler
        restore(previous)
        return 1, _RECEIVED[0]
    try:
        child = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=env, start_new_session=True, preexec_fn=_default_sigint
        )
    except BaseException:
        restore(previous)
        raise
    if received:  # the signal came while the child was being started
        signal_group(child.pid, signal.SIGINT)
    try:
        while True:
            try:
                returncode = child.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                if received and time.monotonic() - received[0][1] > INTERRUPT_GRACE_S:
                    signal_group(child.pid, signal.SIGKILL)
    finally:
        restore(previous)
    signal_group(child.pid, signal.SIGKILL)  # nothing of the run outlives it (probes included)
    return returncode, (received[0][0] if received else None)


def _default_sigint() -> None:
    """In the child before exec: a shell that starts jobs in the background ignores SIGINT for them, and
    Python then never turns SIGINT into KeyboardInterrupt; pytest must get the default back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)




def interrupted(out: Path, signum: int) -> int:
    """Mark the results of an interrupted run as partial; exit status 128 + the signal number."""
    name = signal.Signals(signum).name
    status = 128 + signum
    try:
        results = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"error: interrupted by {name} before any results were written to {out}", file=sys.stderr)
        return status
    finished = len(results.get("benchmarks", []))
    suite = results.setdefault("machine_info", {}).setdefault("suite", {})
    suite["interrupted"] = f"{name} after {finished} finished benchmark(s)"
    if results.get("unfinished_benchmarks"):  # interrupted before a first round (bench.suite.partial)
        suite["interrupted"] += f"; left out with no round: {', '.join(results['unfinished_benchmarks'])}"
    rewrite(out, results)
    print(f"error: interrupted by {name}; the {finished} finished benchmark(s) are in {out}", file=sys.stderr)
    return status
