"""Change points on real stored measurements: series built from the evidence campaigns' results files.

Each series is one benchmark kind of ``cnn-functional`` on one CPU model: 20 runs of unchanged code, then
20 runs of the ~7% Keras slowdown (every Conv2D.call convolving 2 more of 28 input rows), each run given a
commit of its own in that order; or 40 runs of unchanged code (A/A).  Runs are drawn from the stored runs
without replacement within a series (series of one kind share runs), and detection is the store's own
(:func:`bench.history.analysis.analyse` on a store built here).  AMD EPYC's campaigns are where the
detector's penalty was set; the Intel Xeon ones are held out.

``python -m bench.evidence.change_points [--out DIR] [--page DIR] [--series N]`` writes CHANGES.md and
changes.json (and, with ``--page``, the history page of the stepped series, as ``bench history publish``
writes it); ``--series`` draws more series of each kind than the committed table's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bench.core.kinds import GATE_TARGET, TIMED_KINDS
from bench.core.paths import EVIDENCE
from bench.evidence.archive import stored
from bench.history.analysis import analyse
from bench.history.publish import publish
from bench.history.record import store_runs
from bench.history.runs import read_run
from bench.history.store import open_store

STEP_AT = 20  # runs of unchanged code before the slowdown's commit
AA_LENGTH = 40
SERIES = 10
OUT = EVIDENCE / "history"

#: per CPU model: the stored runs of unchanged code, and of the ~7% Keras slowdown
CAMPAIGNS = {
    "amd-epyc": (["amd/a-a/runs/*.json", "amd/a-a-2/runs/*.json", "amd/a-a-3/runs/*.json",
                  "amd/keras-2-rows/runs/baseline*.json"],
                 ["amd/keras-2-rows/runs/keras-2-rows*.json"]),
    "intel-xeon-2-50ghz": (["side-by-side/a-a/runs/*.json", "side-by-side/keras-2-rows/runs/baseline*.json",
                            "runs/a-a*.json", "runs/baseline*.json"],
                           ["side-by-side/keras-2-rows/runs/keras-2-rows*.json", "runs/keras-2-rows*.json"]),
}  # fmt: skip


@dataclass
class Outcome:
    cpu: str
    kind: str
    series: int
    runs: int
    at_the_commit: int  # stepped series whose only change is at the slowdown's commit
    false_changes: int  # changes anywhere else (every change, in A/A series)

    def row(self) -> dict:
        found = f"{self.at_the_commit}/{self.series}" if self.kind == "step" else "—"
        return {
            "CPU": self.cpu,
            "series": f"{self.series} × {self.runs} runs ({self.kind})",
            "change found at the slowdown's commit": found,
            "false change points": self.false_changes,
        }


def _runs(patterns: list[str]) -> dict[str, list[tuple[str, dict, dict]]]:
    """Per timed kind: (file name, run, the GATE_TARGET measurement) of every stored run."""
    by_kind: dict[str, list] = {kind: [] for kind in TIMED_KINDS}
    found = {  # where each file was stored (the order runs are drawn in), and where it is read from
        EVIDENCE / Path(pattern).parent / path.name: path
        for pattern in patterns
        for path in stored(EVIDENCE / Path(pattern).parent).glob(Path(pattern).name)
    }
    for _, path in sorted(found.items()):
        run, rows = read_run(path, machine=None, trigger="evidence")
        for row in rows:
            if row["kind"] in by_kind and row["benchmark"].endswith(f"[{GATE_TARGET}]") and row["normalized"]:
                by_kind[row["kind"]].append((path.name, run, row))
    return by_kind


def commit_of(name: str, index: int) -> str:
    """The commit id the ``index``-th run of series ``name`` is given."""
    return hashlib.sha1(f"{name}/{index}".encode()).hexdigest()


def _series(name: str, picked: list[tuple[str, dict, dict]]) -> list[tuple[str, dict, list[dict]]]:
    """The picked runs as successive commits of one series (machine name ``name``)."""
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    records = []
    for i, (file_name, run, row) in enumerate(picked):
        commit = commit_of(name, i)
        moment = (start + timedelta(hours=i)).isoformat(timespec="seconds")
        digest = hashlib.sha256(f"{name}/{i}/{run['digest']}".encode()).hexdigest()
        clean = {
            "commit_id": commit,
            "parent_id": None,
            "commit_time": moment,
            "dirty": False,
            "machine": name,
        }
        records.append((file_name, {**run, "digest": digest, **clean}, [row]))
    return records


def build(db: str, series: int = SERIES, seed: int = 0) -> dict[str, dict[str, str]]:
    """Write every evidence series into the store ``db``; per machine name: its kind and planted commit."""
    engine = open_store(db)
    planned = {}
    for cpu, (same, slower) in CAMPAIGNS.items():
        unchanged, slowed = _runs(same), _runs(slower)
        for number in range(series):
            kind = TIMED_KINDS[number % len(TIMED_KINDS)]
            rng = random.Random(f"{seed}/{cpu}/{number}")
            step = rng.sample(unchanged[kind], STEP_AT) + rng.sample(slowed[kind], AA_LENGTH - STEP_AT)
            name = f"{cpu}/step-{number}"
            store_runs(engine, _series(name, step))
            planned[name] = {"kind": kind, "planted": commit_of(name, STEP_AT)}
            store_runs(engine, _series(f"{cpu}/a-a-{number}", rng.sample(unchanged[kind], AA_LENGTH)))
            planned[f"{cpu}/a-a-{number}"] = {"kind": kind, "planted": None}
    return planned


def judge(db: str, planned: dict[str, dict]) -> list[Outcome]:
    """Per CPU model and kind of series: how many changes the store's detection found where."""
    history = analyse(open_store(db))
    tally: dict[tuple[str, str], Outcome] = {}
    for one in history.series:
        name = one.key["machine"]
        cpu, label = name.split("/")
        kind = "step" if label.startswith("step") else "A/A"
        outcome = tally.setdefault((cpu, kind), Outcome(cpu, kind, 0, AA_LENGTH, 0, 0))
        outcome.series += 1
        planted = planned[name]["planted"]
        at = [c for c in one.changes if c.first_after == planted]
        outcome.false_changes += len(one.changes) - len(at)
        outcome.at_the_commit += bool(at) and len(one.changes) == 1
    return list(tally.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evidence.change_points", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", default=str(OUT), help="folder for CHANGES.md and changes.json")
    parser.add_argument("--page", help="also publish the stepped series' history page into this folder")
    parser.add_argument("--series", type=int, default=SERIES,
                        help=f"series of each kind per CPU model (default {SERIES}; more share more runs)")
    args = parser.parse_args(argv)
    if args.series < 1:
        parser.error("--series must be at least 1")
    with tempfile.TemporaryDirectory() as scratch:
        db = str(Path(scratch) / "evidence.sqlite")
        outcomes = judge(db, build(db, args.series))
        import pandas as pd

        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        table = pd.DataFrame([o.row() for o in outcomes]).to_markdown(index=False)
        (out / "CHANGES.md").write_text(
            "# Change points on stored measurements\n\n" + (__doc__.split("\n\n")[1]) + "\n\n" + table + "\n",
            encoding="utf-8")  # fmt: skip
        (out / "changes.json").write_text(json.dumps([vars(o) for o in outcomes], indent=2), encoding="utf-8")
        print(table)
        if args.page:
            history = analyse(open_store(db), None)
            history.series = [s for s in history.series if "/step-" in s.key["machine"]][:6]
            print(f"wrote {publish(history, Path(args.page), 'the evidence campaigns (stepped series)')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
