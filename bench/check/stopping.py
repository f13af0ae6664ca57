"""Stopping cleanly: the bench runs a command started, stopped with it on SIGTERM or Ctrl-C.

``bench regress`` and the evidence campaigns start ``bench run`` processes (two side by side). A signal to
them must not leave those running, reparented to init: :func:`stopped_cleanly_on_signals` passes it on to
every run started through :func:`run` (each writes what it finished and marks it partial), waits for them,
then raises :class:`Interrupted` in the main thread so that every ``finally`` (a worktree's removal) runs.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Callable
from contextlib import contextmanager

from bench.core.process_groups import on_stop_signals, restore, signal_group

#: the bench runs this process has started and not yet seen end (a signal stops them)
_RUNNING: set[subprocess.Popen] = set()
_STOPPED: list[int] = []  # the signal that stopped this process's runs: no further run starts
#: what else a stop does before the runs are signalled (:func:`also_on_stop`)
_ON_STOP: list[Callable[[], None]] = []
STOP_GRACE_S = 90  # a stopped bench run's own grace (60 s) to write what it finished, and some


class Interrupted(Exception):
    """SIGTERM or SIGINT reached the check; raised in the main thread, wherever it waits."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def run(command: list[str], *, capture: bool = False, **popen) -> subprocess.CompletedProcess:
    """``command`` in a session of its own, tracked until it ends; like subprocess.run (``capture``: text)."""
    if _STOPPED:  # a queued run (a campaign's next) after the stop: never started
        return subprocess.CompletedProcess(command, 128 + _STOPPED[0], "", "")
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True} if capture else {}
    started = subprocess.Popen(command, start_new_session=True, **pipes, **popen)
    _RUNNING.add(started)
    try:
        out, err = started.communicate()
    finally:
        _RUNNING.discard(started)
    return subprocess.CompletedProcess(command, started.returncode, out, err)


def _stop_runs(signum: int) -> None:
    """Pass the signal on to every running bench run (each writes what it finished and marks it partial);
    a run still alive after STOP_GRACE_S is killed with its whole process group."""
    runs = list(_RUNNING)
    for run in runs:
        with contextlib.suppress(ProcessLookupError):
            run.send_signal(signum)
    deadline = time.monotonic() + STOP_GRACE_S
    for run in runs:
        try:
            run.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            signal_group(run.pid, signal.SIGKILL)


@contextmanager
def also_on_stop(action: Callable[[], None]):
    """While inside, a stop first calls ``action`` (runs side by side are told not to wait for each other)."""
    _ON_STOP.append(action)
    try:
        yield
    finally:
        _ON_STOP.remove(action)


@contextmanager
def stopped_cleanly_on_signals(who: str):
    """SIGTERM and SIGINT stop the runs started through :func:`run`, then raise :class:`Interrupted` in the
    main thread, so that every ``finally`` (a worktree's removal) runs before ``who`` exits."""
    received: list[int] = []

    def handler(signum, _frame):
        if received:
            return  # one stop is enough; a second signal must not cut the cleanup short
        received.append(signum)
        _STOPPED.append(signum)
        print(f"\n{who}: {signal.Signals(signum).name} received, stopping its runs", flush=True)
        for action in list(_ON_STOP):
            with contextlib.suppress(OSError):
                action()
        _stop_runs(signum)
        raise Interrupted(signum)

    previous = on_stop_signals(handler)
    try:
        yield
    finally:
        restore(previous)
        _STOPPED.clear()
