"""The history store's tables, one schema for SQLite and PostgreSQL (SQLAlchemy Core).

A *run* is one results file written by ``bench run`` (a ``bench regress`` check adds the files of both its
sides); a *measurement* is one benchmark of one run.  Times are ISO 8601 strings in UTC, which sort as
they read on both databases.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, ForeignKey, Integer, MetaData, String, Table, Text

metadata = MetaData()

runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    #: sha256 of what the run measured (bench.history.runs.content_digest; older rows: of the file's bytes):
    #: the same run added twice, by two jobs or re-serialized, is one run
    Column("digest", String(64), nullable=False, unique=True),
    Column("commit_id", String(64), nullable=False),
    Column("parent_id", String(64)),
    Column("dirty", Boolean, nullable=False),
    Column("branch", String(255)),
    Column("commit_time", String(32), nullable=False),
    Column("run_time", String(32)),
    Column("added_at", String(32), nullable=False),
    Column("machine", String(255), nullable=False),
    #: JSON: CPU model, cores, device (what the default machine name is derived from)
    Column("fingerprint", Text, nullable=False),
    Column("backend", String(32), nullable=False),
    Column("profile", String(32), nullable=False),
    #: what else a series must share: python, the profile's settings, the kernel switches (environment.key)
    Column("environment", String(64), nullable=False),
    Column("versions", Text, nullable=False),  # JSON: keras, tensorflow / jax / torch, numpy
    Column("dataset", String(64)),
    Column("trigger", String(32), nullable=False),
    Column("source", Text, nullable=False),
    Column("partial", Boolean, nullable=False),
)

measurements = Table(
    "measurements",
    metadata,
    Column("run_id", Integer, ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("benchmark", String(255), primary_key=True),
    Column("kind", String(64), nullable=False),
    #: the measuring code's version: a changed benchmark starts a new series
    Column("code_version", String(64), nullable=False),
    Column("normalized", Float),  # median normalized round (CPU time / partner), timed kinds
    Column("normalized_low", Float),
    Column("normalized_high", Float),
    Column("cpu_s", Float),  # median raw CPU time per round (not divided by the reference)
    Column("cpu_low", Float),
    Column("cpu_high", Float),
    Column("rounds", Integer),
    Column("images_per_s", Float),  # wall-clock throughput
    Column("p50_s", Float),  # batch-1 wall latency
    Column("accuracy", Float),
    Column("first_step_s", Float),
)

annotations = Table(
    "annotations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("commit_id", String(64), nullable=False),
    Column("machine", String(255)),  # None: every machine
    Column("benchmark", String(255)),  # None: every benchmark
    Column("note", Text, nullable=False),
    Column("added_at", String(32), nullable=False),
)
