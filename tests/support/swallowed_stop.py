"""pytest plugin for a test of ``bench run``: after the first benchmark, the main thread lingers in a
garbage-collector callback, where Python swallows a KeyboardInterrupt (reports it as unraisable and goes
on), as it does in the callback JAX registers."""

from __future__ import annotations

import gc
import os
import time
from pathlib import Path

#: names the file this plugin writes once the main thread is in the callback
MARK_ENV = "BENCH_TEST_SWALLOW_MARK"
LINGER_S = 3.0
_DONE: list[str] = []


def _callback(_phase, _info):
    time.sleep(0.05)  # a SIGINT now is raised here, and swallowed


def pytest_runtest_logfinish(nodeid, location):
    if _DONE:
        return
    _DONE.append(nodeid)
    gc.callbacks.append(_callback)
    try:
        Path(os.environ[MARK_ENV]).write_text(nodeid)
        deadline = time.monotonic() + LINGER_S
        while time.monotonic() < deadline:
            gc.collect(0)
    finally:
        gc.callbacks.remove(_callback)
