"""History stores for the tests: a SQLite file, and a database of its own on a PostgreSQL server.

The PostgreSQL server is named by ``$BENCH_TEST_POSTGRES_URL`` (a URL of a role that may create
databases; ``.ci/run`` starts a server on localhost and sets it).  Without one, those tests are skipped
and say how to start one.
"""

from __future__ import annotations

import os
import uuid

import pytest

POSTGRES_ENV = "BENCH_TEST_POSTGRES_URL"
NO_SERVER = (
    f"no PostgreSQL server for the store's tests: set "
    f"{POSTGRES_ENV}=postgresql://USER:PASSWORD@localhost/postgres "
    "for a role that may create databases (on Debian: apt-get install postgresql; service postgresql start; "
    ".ci/run does both and sets it)"
)
KINDS = ("sqlite", "postgresql")


def _admin_engine(url: str):
    from sqlalchemy import create_engine

    from bench.history.store import url_of

    return create_engine(url_of(url), isolation_level="AUTOCOMMIT")


def postgres_database():
    """A fresh database's URL on the test server, dropped afterwards (a generator for fixtures)."""
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(NO_SERVER)
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    admin = _admin_engine(url)
    name = f"bench_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # a server named but not reachable is a failure, not a skip
        pytest.fail(f"{POSTGRES_ENV} names a server the tests cannot use: {error}")
    try:
        yield make_url(admin.url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=KINDS)
def store_url(request, tmp_path):
    """A new, empty store of each kind: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        yield str(tmp_path / "store.sqlite")
    else:
        yield from postgres_database()
