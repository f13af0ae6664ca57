"""The history analysed once: every series' summary and change points, which the Markdown, the JSON and
the page all render."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy.engine import Engine

from bench.history.changes import Change, newest_regressions, restarts_for, series_changes
from bench.history.series import annotations_frame, measurements_frame, series_of


@dataclass
class Series:
    key: dict
    rows: pd.DataFrame
    changes: list[Change]
    restarts: set[str]

    @property
    def latest(self) -> pd.Series:
        return self.rows.iloc[-1]

    def summary(self) -> dict:
        latest = self.latest
        return {
            **self.key,
            "runs": len(self.rows),
            "commits": self.rows["commit_id"].nunique(),
            "first": self.rows["commit_id"].iloc[0][:12],
            "last": latest["commit_id"][:12],
            "latest normalized": None
            if pd.isna(latest["normalized"])
            else round(float(latest["normalized"]), 4),
            "latest img/s": None
            if pd.isna(latest["images_per_s"])
            else round(float(latest["images_per_s"]), 1),
            "latest accuracy": None if pd.isna(latest["accuracy"]) else round(float(latest["accuracy"]), 4),
            "changes": len(self.changes),
        }


@dataclass
class History:
    series: list[Series]

    @property
    def changes(self) -> list[Change]:
        return [change for one in self.series for change in one.changes]

    @property
    def regressions(self) -> list[Change]:
        return newest_regressions(self.changes)


def analyse(engine: Engine, benchmark: str | None = None) -> History:
    """Every series of the store (those whose benchmark name contains ``benchmark``), with its changes."""
    frame, notes = measurements_frame(engine), annotations_frame(engine)
    if benchmark:
        frame = frame[frame["benchmark"].str.contains(benchmark, regex=False)]
    found = []
    for key, rows in series_of(frame):
        restarts = restarts_for(key, notes)
        found.append(Series(key, rows, series_changes(key, rows, restarts), restarts))
    return History(found)
