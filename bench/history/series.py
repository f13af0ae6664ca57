"""The store's series: one per machine, backend, profile, environment, benchmark and benchmark version,
each in the order of its runs' commit times (runs of one commit in the order they ran)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Engine

from bench.history.schema import annotations, measurements, runs

#: what a series never mixes
SERIES_KEY = ("machine", "backend", "profile", "environment", "benchmark", "code_version")


def measurements_frame(engine: Engine) -> pd.DataFrame:
    """Every measurement of a committed tree (runs of uncommitted changes are left out), with its run."""
    query = (
        select(
            measurements,
            runs.c.commit_id,
            runs.c.parent_id,
            runs.c.commit_time,
            runs.c.run_time,
            runs.c.machine,
            runs.c.backend,
            runs.c.profile,
            runs.c.environment,
            runs.c.versions,
            runs.c.trigger,
            runs.c.branch,
        )  # fmt: skip
        .join(runs, runs.c.id == measurements.c.run_id)
        .where(runs.c.dirty.is_(False))
        .order_by(runs.c.commit_time, runs.c.run_time, runs.c.id)
    )
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    figures = frame.select_dtypes("floating").columns
    # a figure that is not finite (stored before the door refused them) is no figure: a gap, not a poison
    frame[figures] = frame[figures].where(np.isfinite(frame[figures].astype(float)))
    return frame


def series_of(frame: pd.DataFrame):
    """(key, the series' rows in commit order) for each series in ``frame``."""
    if frame.empty:
        return
    for key, rows in frame.groupby(list(SERIES_KEY), sort=True, dropna=False):
        yield dict(zip(SERIES_KEY, key, strict=True)), rows.reset_index(drop=True)


def annotations_frame(engine: Engine) -> pd.DataFrame:
    with engine.connect() as connection:
        return pd.read_sql(select(annotations).order_by(annotations.c.id), connection)


def series_label(key: dict) -> str:
    return (
        f"{key['benchmark']} · {key['machine']} · {key['backend']} · {key['profile']} · {key['environment']}"
    )
