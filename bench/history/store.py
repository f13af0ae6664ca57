"""Opening the history store: a SQLite file by default, a PostgreSQL URL for runners that share one.

The store is named by ``--db``, else ``$BENCH_HISTORY_DB``, else ``bench-history.sqlite`` in the current
folder.  A plain path means a SQLite file; ``postgresql://`` URLs use psycopg (version 3).  Every write is
one transaction: on SQLite it takes the write lock when it begins (``BEGIN IMMEDIATE``), so two processes
adding runs at once wait for each other instead of failing half-way; on PostgreSQL the schema is created
under an advisory lock, so two first writers do not race to create it.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from bench.core.secrets import redact
from bench.history.schema import metadata

DB_ENV = "BENCH_HISTORY_DB"
#: the databases the store is written for and tested on
DIALECTS = ("sqlite", "postgresql")
DEFAULT_FILE = "bench-history.sqlite"
#: seconds a SQLite writer waits for another's transaction to end
SQLITE_WAIT_S = 120
_SCHEMA_LOCK = 720_461  # the PostgreSQL advisory lock held while the tables are created


class HistoryError(ValueError):
    """The store cannot be used (a URL that does not open, a commit or benchmark it does not know)."""


def url_of(db: str | None) -> str:
    """The store's SQLAlchemy URL from ``--db``, the environment or the default file."""
    chosen = db or os.environ.get(DB_ENV) or DEFAULT_FILE
    if "://" not in chosen:
        return f"sqlite:///{Path(chosen).expanduser().resolve()}"
    if chosen.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def shown(url: str) -> str:
    """The URL as messages and pages show it: without its password, in any form (bench.core.secrets)."""
    return redact(url)


def _sqlite_engine(url: str) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:":
        folder = Path(path).parent
        if not folder.is_dir():
            raise HistoryError(f"cannot open the history store {shown(url)}: no folder {folder}")
    engine = create_engine(url, connect_args={"timeout": SQLITE_WAIT_S})

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # SQLAlchemy's BEGIN below is the only one

    @event.listens_for(engine, "begin")
    def _write_lock_first(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def open_store(db: str | None = None) -> Engine:
    """An engine on the store with its tables made; HistoryError with one line when it cannot open."""
    url = url_of(db)
    try:
        dialect = make_url(url).get_backend_name()
    except ArgumentError:
        raise HistoryError(f"not a database URL: {shown(url)}") from None
    if dialect not in DIALECTS:
        raise HistoryError(f"the history store is SQLite or PostgreSQL, not {dialect}: {shown(url)}")
    try:
        engine = _sqlite_engine(url) if url.startswith("sqlite") else create_engine(url, pool_pre_ping=True)
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            metadata.create_all(connection)
    except HistoryError:
        raise
    except (ArgumentError, NoSuchModuleError) as error:
        raise HistoryError(f"not a database URL: {shown(url)} ({shown(str(error))})") from None
    except ImportError as error:  # the dialect's driver is not installed
        raise HistoryError(
            f"the store {shown(url)} needs the {error.name or 'database'} driver: "
            "pip install 'keras-api-bench[postgres]'"
        ) from None
    except SQLAlchemyError as error:
        reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or ["no reason given"])[0]
        raise HistoryError(f"cannot open the history store {shown(url)}: {shown(reason)}") from None
    return engine
