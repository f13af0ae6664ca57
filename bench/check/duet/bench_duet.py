"""pytest plugin for two benchmark runs side by side (bench regress): each benchmark starts in both together.

Two runs started together drift apart: one imports faster, builds a model sooner, or (in a
confirming pair of a few benchmarks) finishes and leaves the other alone on the machine.
Then a benchmark of one run meets another phase of the other (a batched predict, an import,
nothing at all) than its counterpart met, and the two see different contention, enough to pass the
check's threshold with the same timed code on both sides (docs/evidence.md).  Duet benchmarking synchronizes the two
harnesses (Bulej et al., ICPE 2020); this plugin does so per benchmark.  Before the setup of
every test that both runs collected, each run leaves a mark in ``BENCH_DUET_DIR`` and waits
for the other run's mark of the same test.  A run that does not arrive within
``BENCH_DUET_TIMEOUT_S`` (the other died, or was started alone) releases the wait for good.
A check that is stopped leaves ``stop`` in the folder (:func:`stop`): from then on each run stops at its
next wait, so that neither waits for the other, even where its own stop was swallowed (an older commit's
run has no guard against that; ``bench.suite.interrupts`` is the current one's).

The file lives outside the ``bench`` package (``python -m bench run ... -- -p bench_duet`` with
this folder on PYTHONPATH), so a checkout of an older commit can load it too.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

import pytest

DIR_ENV, SIDE_ENV, TIMEOUT_ENV = "BENCH_DUET_DIR", "BENCH_DUET_SIDE", "BENCH_DUET_TIMEOUT_S"
SIDES = ("baseline", "checkout")
POLL_S = 0.02
STOP_FILE = "stop"
_STATE: dict = {"shared": set(), "alone": False}


def _paths() -> tuple[Path, str, str]:
    side = os.environ[SIDE_ENV]
    other = SIDES[1 - SIDES.index(side)]
    return Path(os.environ[DIR_ENV]), side, other


def _wait_for(path: Path) -> bool:
    """Wait for ``path`` to appear; False when the timeout passes first (then never wait again)."""
    if _STATE["alone"]:
        return False
    deadline = time.monotonic() + float(os.environ.get(TIMEOUT_ENV, "900"))
    while not path.exists():
        _stop_if_the_check_stopped(path.parent)
        if time.monotonic() > deadline:
            _STATE["alone"] = True
            return False
        time.sleep(POLL_S)
    return True


def stop(folder: Path) -> None:
    """The check is stopping: both runs stop at their next wait instead of waiting for the other."""
    (folder / STOP_FILE).touch()


def _stop_if_the_check_stopped(folder: Path) -> None:
    if (folder / STOP_FILE).exists():
        raise KeyboardInterrupt  # as the stop's own SIGINT does: pytest writes the benchmarks that finished


def _write(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)  # the other run never reads half a file


def _test_id(nodeid: str) -> str:
    """A test's id without its folder: the suite's folder differs between commits that moved it, the test
    does not (``bench/suite/test_speed.py::test_x[c]`` meets ``bench/benchmarks/test_speed.py::test_x[c]``)."""
    return nodeid.rsplit("/", 1)[-1]


def _key(nodeid: str) -> str:
    return hashlib.sha1(_test_id(nodeid).encode()).hexdigest()[:16]


def pytest_collection_finish(session) -> None:
    """Publish this run's tests; the ones both runs collected are the ones they start together."""
    if not os.environ.get(DIR_ENV):
        return
    folder, side, other = _paths()
    mine = [_test_id(item.nodeid) for item in session.items]
    _write(folder / f"{side}.tests", json.dumps(mine))
    theirs = folder / f"{other}.tests"
    if _wait_for(theirs):
        _STATE["shared"] = set(mine) & set(json.loads(theirs.read_text(encoding="utf-8")))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    """Before a shared test's fixtures and body: meet the other run at the same test."""
    if _test_id(item.nodeid) not in _STATE["shared"]:
        return
    folder, side, other = _paths()
    _stop_if_the_check_stopped(folder)
    (folder / f"{side}-{_key(item.nodeid)}").touch()
    _wait_for(folder / f"{other}-{_key(item.nodeid)}")
