"""Finding what a test's subprocesses left running."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path


def marked_processes(marker: str) -> list[int]:
    """Processes whose environment carries ``marker``: everything a run started, whatever its group."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def still_there(find: Callable[[], list[int]], within: float = 1.5) -> list[int]:
    """What ``find`` still lists after at most ``within`` seconds: the wait ends as soon as it lists none, so
    a process still exiting is not taken for one left behind, and one that stays is found all the same."""
    deadline = time.monotonic() + within
    while (found := find()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found
