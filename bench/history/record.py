"""Adding results files to the store, all in one transaction: a failure leaves nothing half-written."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bench.core.results import ResultsError
from bench.history.runs import read_run
from bench.history.schema import annotations, measurements, runs
from bench.history.store import HistoryError, shown

#: an add that met another writer's copy of the same file is tried again this often (it then skips it)
_ATTEMPTS = 3


@dataclass
class Added:
    """What an add did: the files it added as new runs, and those the store already had."""

    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)

    def describe(self, url: str) -> str:
        line = f"history: {len(self.added)} run(s) added to {shown(url)}"
        return line + (f"; {len(self.already)} already there" if self.already else "")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def add_files(engine: Engine, paths: list[str | Path], *, machine: str | None = None,
              trigger: str = "add") -> Added:  # fmt: skip
    """Add each results file as a run; all are read (or rejected: ResultsError) before any is written."""
    read = [(Path(path).name, *read_run(Path(path), machine=machine, trigger=trigger)) for path in paths]
    return store_runs(engine, read)


def store_runs(engine: Engine, read: list[tuple[str, dict, list[dict]]]) -> Added:
    """Write (name, run, measurements) records in one transaction, skipping runs whose file is stored."""
    for attempt in range(_ATTEMPTS):
        done = Added()
        try:
            with engine.begin() as connection:
                for name, run, rows in read:
                    run = dict(run)
                    digests = {run["digest"], run.pop("file_digest", None)} - {None}  # file's: older rows
                    known = connection.execute(select(runs.c.id).where(runs.c.digest.in_(digests)))
                    if known.first() is not None:
                        done.already.append(name)
                        continue
                    run_id = connection.execute(
                        insert(runs).values(added_at=now(), **run)
                    ).inserted_primary_key[0]
                    if rows:
                        connection.execute(insert(measurements), [{"run_id": run_id, **row} for row in rows])
                    done.added.append(name)
            return done
        except IntegrityError:
            if attempt == _ATTEMPTS - 1:
                raise HistoryError(
                    f"the history store {shown(str(engine.url))} refused the runs: another writer keeps "
                    "adding the same ones; try again"
                ) from None
        except SQLAlchemyError as error:
            reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            raise HistoryError(
                f"the history store {shown(str(engine.url))} refused the runs: {reason}"
            ) from None
    raise AssertionError("unreachable")


def record_files(engine: Engine, files: list[Path], trigger: str) -> None:
    """Add the results files a command wrote (``bench regress``, ``bench bisect``); a file the history cannot
    take is named and left out, and a store that refuses them is named: what was measured stays on disk."""
    records = []
    for path in files:  # each file read once
        try:
            records.append((path.name, *read_run(path, machine=None, trigger=trigger)))
        except ResultsError as error:
            print(f"bench {trigger}: not added to the history: {error}", file=sys.stderr)
    try:
        print(store_runs(engine, records).describe(str(engine.url)), flush=True)
    except ValueError as error:
        print(f"bench {trigger}: the runs were not added to the history ({error}); they are kept in "
              f"{', '.join(str(p) for p in files)}", file=sys.stderr)  # fmt: skip


def known_commit(engine: Engine, commit: str) -> str:
    """The full id of the one stored commit that ``commit`` abbreviates; HistoryError otherwise."""
    with engine.connect() as connection:
        found = sorted({row[0] for row in connection.execute(
            select(runs.c.commit_id).where(runs.c.commit_id.startswith(commit.lower())))})  # fmt: skip
    if len(found) != 1 or len(commit) < 4:
        problem = "is ambiguous" if len(found) > 1 else "is not a commit of any stored run"
        raise HistoryError(f"{commit} {problem}")
    return found[0]


def annotate(engine: Engine, commit: str, note: str, *, machine: str | None = None,
             benchmark: str | None = None) -> str:  # fmt: skip
    """Mark an intentional shift at ``commit`` (an upgrade, a new runner): detection restarts there."""
    full = known_commit(engine, commit)
    with engine.begin() as connection:
        connection.execute(insert(annotations).values(commit_id=full, machine=machine, benchmark=benchmark,
                                                      note=note, added_at=now()))  # fmt: skip
    return full
