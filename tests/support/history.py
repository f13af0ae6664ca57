"""Results files of a project's successive commits, for the history's tests."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from tests.support.results import TRAIN, committed, synthetic_results, write

START = datetime(2026, 6, 1, tzinfo=timezone.utc)


def commit_id(number: int, salt: str = "") -> str:
    return hashlib.sha1(f"commit {number}{salt}".encode()).hexdigest()


def history_files(tmp_path: Path, commits: int, *, slower_from: int | None = None, factor: float = 1.08,
                  salt: str = "", offset: int = 0) -> list[Path]:  # fmt: skip
    """One results file per commit, the train step ``factor`` slower from commit ``slower_from`` on."""
    files = []
    for number in range(offset, offset + commits):
        slow = slower_from is not None and number >= slower_from
        results = synthetic_results(1000 + number, slowdown={TRAIN: factor} if slow else None)
        when = (START + timedelta(hours=number)).isoformat()
        committed(results, commit_id(number, salt), when, parent=commit_id(number - 1, salt))
        files.append(write(tmp_path, f"run-{number}{salt}.json", results))
    return files
