"""The history store: runs added from results files, series that never mix, change points at their commit,
bad input refused with the store unchanged, concurrent writers; on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bench.__main__ import main
from bench.history.record import add_files
from bench.history.schema import measurements, runs
from bench.history.store import open_store
from tests.support.history import commit_id, history_files
from tests.support.results import TRAIN


def counts(url: str) -> tuple[int, int]:
    with open_store(url).connect() as connection:
        return (connection.execute(select(func.count()).select_from(runs)).scalar_one(),
                connection.execute(select(func.count()).select_from(measurements)).scalar_one())  # fmt: skip


def changes_of(url: str, capsys, *args: str) -> tuple[int, list[dict]]:
    capsys.readouterr()
    status = main(["history", "changes", "--db", url, "--json", *args])
    return status, json.loads(capsys.readouterr().out)


def test_a_slowdown_is_dated_to_its_commit_and_changes_exits_1(store_url, tmp_path, capsys):
    files = history_files(tmp_path, 24, slower_from=14)
    for batch in (files[::2][::-1], files[1::2]):  # added out of order: a series is in commit-time order
        assert main(["history", "add", "--db", store_url, *map(str, batch)]) == 0
    status, changes = changes_of(store_url, capsys, "-k", TRAIN)
    assert status == 1
    [change] = changes
    assert (change["last_before"], change["first_after"]) == (commit_id(13), commit_id(14))  # full ids
    assert change["benchmark"] == TRAIN and 1.05 < change["ratio"] < 1.11 and change["p"] < 0.001
    assert change["regression"] and change["after"] > change["before"]
    capsys.readouterr()
    assert main(["history", "changes", "--db", store_url]) == 1
    assert commit_id(14)[:12] in capsys.readouterr().out  # the Markdown names the commit range too


def test_unchanged_code_has_no_change_point_and_exits_0(store_url, tmp_path, capsys):
    assert main(["history", "add", "--db", store_url, *map(str, history_files(tmp_path, 24))]) == 0
    assert changes_of(store_url, capsys) == (0, [])


def test_series_never_mix_machines(store_url, tmp_path, capsys):
    """One runner's ten commits, then another's ten, 8% slower in every run: as one series that would be a
    change at the eleventh commit; as two, neither has one."""
    first = history_files(tmp_path, 10)
    second = history_files(tmp_path, 10, slower_from=0, offset=10)
    assert main(["history", "add", "--db", store_url, "--machine", "runner-a", *map(str, first)]) == 0
    assert main(["history", "add", "--db", store_url, "--machine", "runner-b", *map(str, second)]) == 0
    assert changes_of(store_url, capsys, "-k", TRAIN) == (0, [])
    capsys.readouterr()
    main(["history", "show", "--db", store_url, "--json", "-k", TRAIN])
    assert sorted(row["machine"] for row in json.loads(capsys.readouterr().out)) == ["runner-a", "runner-b"]


def test_a_changed_benchmark_starts_a_new_series(store_url, tmp_path, capsys):
    """The measuring code changed at commit 14 (and with it what a round costs): two series, no change."""
    files = history_files(tmp_path, 24, slower_from=14)
    for path in files[14:]:
        results = json.loads(path.read_text())
        results["machine_info"]["suite"]["benchmark_code"] = "a-new-benchmark"
        path.write_text(json.dumps(results))
    main(["history", "add", "--db", store_url, *map(str, files)])
    assert changes_of(store_url, capsys, "-k", TRAIN) == (0, [])
    capsys.readouterr()
    main(["history", "show", "--db", store_url, "--json", "-k", TRAIN])
    assert sorted(row["runs"] for row in json.loads(capsys.readouterr().out)) == [10, 14]


def test_an_annotation_restarts_detection_at_its_commit(store_url, tmp_path, capsys):
    main(["history", "add", "--db", store_url, *map(str, history_files(tmp_path, 24, slower_from=14))])
    assert (
        main(["history", "annotate", "--db", store_url, commit_id(14)[:10], "--note", "keras upgrade"]) == 0
    )
    assert changes_of(store_url, capsys, "-k", TRAIN) == (0, [])


def test_the_same_file_twice_is_one_run(store_url, tmp_path):
    files = history_files(tmp_path, 2)
    engine = open_store(store_url)
    assert add_files(engine, files).added == [f.name for f in files]
    again = add_files(engine, files)
    assert again.added == [] and again.already == [f.name for f in files]
    assert counts(store_url) == (2, 2 * len(json.loads(files[0].read_text())["benchmarks"]))


@pytest.mark.parametrize("bad", ["truncated", "foreign", "no commit"])
def test_bad_input_is_one_line_exit_2_and_the_store_unchanged(store_url, tmp_path, capsys, bad):
    good = history_files(tmp_path, 3)
    main(["history", "add", "--db", store_url, str(good[0])])
    before = counts(store_url)
    broken = tmp_path / "broken.json"
    if bad == "truncated":
        broken.write_text(good[1].read_text()[:500])
    elif bad == "foreign":
        broken.write_text(json.dumps({"benchmarks": [], "machine_info": {}}))
    else:
        results = json.loads(good[1].read_text())
        results["machine_info"]["suite"]["commit"] = None
        broken.write_text(json.dumps(results))
    capsys.readouterr()
    assert main(["history", "add", "--db", store_url, str(good[1]), str(broken), str(good[2])]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "broken.json" in err
    assert counts(store_url) == before  # the good files beside it were not added either


def test_a_store_that_does_not_open_is_one_line_and_exit_2(tmp_path, capsys):
    for url in ("postgresql://bench:secret@127.0.0.1:9/none", str(tmp_path / "no" / "such" / "folder.sqlite"),
                "nosuchdialect://x"):  # fmt: skip
        assert main(["history", "show", "--db", url]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "secret" not in err


def test_an_unknown_commit_cannot_be_annotated(store_url, tmp_path, capsys):
    main(["history", "add", "--db", store_url, *map(str, history_files(tmp_path, 2))])
    capsys.readouterr()
    assert main(["history", "annotate", "--db", store_url, "deadbeef", "--note", "x"]) == 2
    assert "deadbeef is not a commit of any stored run" in capsys.readouterr().err


WRITER = """
import sys
from bench.history.record import add_files
from bench.history.store import open_store
engine = open_store(sys.argv[1])
for path in sys.argv[2:]:
    add_files(engine, [path], trigger="concurrent")
"""


def test_two_processes_adding_at_once_lose_nothing(store_url, tmp_path):
    """Two writers started together, twelve transactions each, one file added by both."""
    shared = history_files(tmp_path, 1, salt="shared")
    mine, theirs = history_files(tmp_path, 12, salt="a"), history_files(tmp_path, 12, salt="b")
    open_store(store_url)  # the schema exists: the writers race on rows, as runners do
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, store_url, *map(str, files + shared)],
                                cwd=Path(__file__).parent.parent, stderr=subprocess.PIPE, text=True)
               for files in (mine, theirs)]  # fmt: skip
    for writer in writers:
        assert writer.wait(timeout=300) == 0, writer.stderr.read()
    per_run = len(json.loads(shared[0].read_text())["benchmarks"])
    assert counts(store_url) == (25, 25 * per_run)


KILL_TRIALS = int(os.environ.get("BENCH_KILL_TRIALS", 3))


def test_an_add_killed_at_a_random_moment_leaves_all_its_runs_or_none(store_url, tmp_path, capsys):
    """SIGKILL to ``bench history add`` of 12 files, at a moment drawn per trial (the seed is printed):
    the store holds every run of the add or none, and the next add completes it."""
    seed = int(os.environ.get("BENCH_KILL_SEED", time.time_ns() % 10**6))
    files = history_files(tmp_path, 12)
    per_run = len(json.loads(files[0].read_text())["benchmarks"])
    open_store(store_url)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "bench", "history", "add", "--db", store_url, *map(str, files)],
                   cwd=Path(__file__).parent.parent, check=True, capture_output=True)  # fmt: skip
    whole = time.monotonic() - started  # how long an add takes here: the window the moments fall in
    seen = []
    draw = random.Random(seed)
    for trial, moment in enumerate(draw.uniform(0, whole) for _ in range(KILL_TRIALS)):
        (tmp_path / f"trial-{trial}").mkdir()
        fresh = history_files(tmp_path / f"trial-{trial}", 12, salt=f"kill-{trial}")
        before = counts(store_url)
        adding = subprocess.Popen([sys.executable, "-m", "bench", "history", "add", "--db", store_url,
                                   *map(str, fresh)], cwd=Path(__file__).parent.parent,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(moment)
        adding.kill()
        adding.wait()
        added = counts(store_url)[0] - before[0]
        assert added in (0, 12) and counts(store_url)[1] - before[1] == added * per_run, (seed, moment)
        seen.append(f"{moment:.2f}s: {added} runs")
        assert add_files(open_store(store_url), fresh).added == ([] if added else [f.name for f in fresh])
    print(f"seed {seed}, add takes {whole:.2f}s:", *seen, sep="\n  ")
