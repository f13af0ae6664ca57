"""Process groups and stop signals: one way for ``bench run`` and the commands that start runs to pass a stop on.

Every run is started in a session of its own, so it and whatever it started (probes, workers) form one process
group that a signal reaches whole.  SIGTERM and SIGINT are the stop signals: each command installs its own
handler for both and puts the previous ones back after.
"""

from __future__ import annotations

import contextlib
import os
import signal

#: the signals that stop a run, a check or a campaign cleanly
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def signal_group(pgid: int, signum: int) -> None:
    """Send ``signum`` to process group ``pgid``; a group already gone (or no longer ours) is left alone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def on_stop_signals(handler) -> dict:
    """Install ``handler`` for SIGTERM and SIGINT; the handlers it replaced, for :func:`restore`."""
    return {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}


def restore(previous: dict) -> None:
    """Put back the handlers :func:`on_stop_signals` replaced."""
    for sig, handler in previous.items():
        signal.signal(sig, handler)
