"""Bad values at every door: a results file is checked once (bench.core.validate) by history add, compare and
report alike; what is refused is never stored, averaged or rendered; the store and its views survive what was
stored before the door existed; names render literally and safely; passwords never leave the process."""

from __future__ import annotations

import json
import os
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert, update

from bench.__main__ import main
from bench.core.escape import code, file_name, markdown, terminal
from bench.core.secrets import redact
from bench.core.stats import median_ci
from bench.history.schema import measurements, runs
from bench.history.store import open_store
from tests.support.history import history_files
from tests.support.results import TRAIN, synthetic_results, write
from tests.test_history import counts

ROUND_FIELDS = ("stats.data", "extra_info.cpu_round_s", "extra_info.reference_cpu_round_s")


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


def _set(results: dict, benchmark: str, field: str, value) -> dict:
    bench = next(b for b in results["benchmarks"] if b["name"] == benchmark)
    where, key = field.split(".")
    bench["stats" if where == "stats" else "extra_info"][key] = value
    return results


def _bad_round(value: float, field: str):
    def make(results: dict) -> dict:
        rounds = list(_get(results, TRAIN, field))
        rounds[len(rounds) // 2] = value
        return _set(results, TRAIN, field, rounds)

    return make


def _get(results: dict, benchmark: str, field: str):
    bench = next(b for b in results["benchmarks"] if b["name"] == benchmark)
    where, key = field.split(".")
    return bench["stats" if where == "stats" else "extra_info"][key]


def _all_zero_reference(results: dict) -> dict:
    return _set(results, TRAIN, "extra_info.reference_cpu_round_s",
                [0.0] * len(_get(results, TRAIN, "extra_info.reference_cpu_round_s")))  # fmt: skip


def _suite(field: str, value):
    def make(results: dict) -> dict:
        results["machine_info"]["suite"][field] = value
        return results

    return make


def _bench_field(field: str, value):
    def make(results: dict) -> dict:
        results["benchmarks"][0][field] = value
        return results

    return make


def _named_twice(results: dict) -> dict:
    results["benchmarks"].append(json.loads(json.dumps(results["benchmarks"][0])))
    return results


def _datetime(value):
    def make(results: dict) -> dict:
        results["datetime"] = value
        return results

    return make


BAD = {
    **{f"{kind} in {field}": _bad_round(value, field) for field in ROUND_FIELDS
       for kind, value in (("NaN", float("nan")), ("Infinity", float("inf")), ("zero", 0.0), ("negative", -0.2))},
    "all-zero reference rounds": _all_zero_reference,
    "stats null": _bench_field("stats", None),
    "stats a string": _bench_field("stats", "fast"),
    "extra_info null": _bench_field("extra_info", None),
    "extra_info a string": _bench_field("extra_info", "x"),
    "an integer name": _bench_field("name", 7),
    "an integer commit": _suite("commit", 1234567),
    "an integer datetime": _datetime(1700000000),
    "settings a string": _suite("settings", "quick"),
    "a null profile": _suite("profile", None),
    "a benchmark named twice": _named_twice,
    "an integer too large for a float": _bad_round(10**400, "stats.data"),
    "a lone surrogate in a name": _bench_field("name", "test_train_throughput[\ud800]"),
    "a time past 9999 in UTC": _datetime("9999-12-31T23:59:59-14:00"),
    "a NaN in the settings": _suite("settings", {"train_batch": float("nan")}),
    "params without an architecture": _bench_field("params", {"api": "functional"}),
    "params null": _bench_field("params", None),
    "a latency without its p90": lambda r: _drop(r, "test_latency_batch1[cnn-functional]", "p90_s"),
    "a suite without its backend": _suite("backend", None),
}  # fmt: skip


def _drop(results: dict, benchmark: str, field: str) -> dict:
    next(b for b in results["benchmarks"] if b["name"] == benchmark)["extra_info"].pop(field)
    return results


def _bad_file(tmp_path: Path, case: str, seed: int = 1) -> Path:
    results = BAD[case](synthetic_results(seed))
    results["machine_info"]["suite"]["commit"] = results["machine_info"]["suite"].get("commit") or "a" * 40
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(results))  # Python writes NaN and Infinity as JSON does not
    return path


@pytest.mark.parametrize("case", list(BAD))
def test_a_bad_file_is_refused_at_every_door(tmp_path, capsys, case):
    """history add, compare and report refuse it with one line that names the file; the store is unchanged."""
    bad = _bad_file(tmp_path, case)
    good = history_files(tmp_path, 1)[0]
    store = str(tmp_path / "store.sqlite")
    assert main(["history", "add", "--db", store, str(good)]) == 0
    capsys.readouterr()
    before = counts(store)
    assert main(["history", "add", "--db", store, str(bad)]) == 2
    assert "bad.json" in _one_line_error(capsys)
    assert counts(store) == before
    assert main(["compare", str(good), str(bad)]) == 2
    assert "bad.json" in _one_line_error(capsys)
    assert main(["report", str(bad), "--out", str(tmp_path / "report")]) == 2
    _one_line_error(capsys)
    assert not (tmp_path / "report" / "REPORT.md").exists()


def test_a_nan_round_never_passes_a_regression(tmp_path, capsys):
    """A benchmark 30% slower with one NaN round: refused (exit 2), never 'no change'."""
    base = write(tmp_path, "base.json", synthetic_results(0))
    current = _bad_round(float("nan"), "extra_info.cpu_round_s")(synthetic_results(1, slowdown={TRAIN: 1.3}))
    path = tmp_path / "current.json"
    path.write_text(json.dumps(current))
    assert main(["compare", str(base), str(path)]) == 2
    assert "cpu_round_s" in _one_line_error(capsys)


def _poison(url: str, value: float, newest: int) -> None:
    """Rows as a store written before the door could hold them: the newest runs' figures set to ``value``."""
    engine = open_store(url)
    with engine.begin() as connection:
        ids = [row[0] for row in connection.execute(runs.select().order_by(runs.c.commit_time.desc()))][:newest]
        connection.execute(update(measurements).where(measurements.c.run_id.in_(ids))
                           .values(normalized=value, cpu_s=value, normalized_low=value, normalized_high=value))


@pytest.mark.parametrize("value", [float("inf"), float("-inf"), float("nan")])
def test_the_store_and_every_view_survive_what_was_stored_before(store_url, tmp_path, capsys, value):
    """Infinity or NaN already in the store: show, changes and publish still work for every series, show's
    JSON is JSON, and a real x1.3 regression is still found though the newest runs are poisoned."""
    files = history_files(tmp_path, 12, slower_from=6, factor=1.3)
    assert main(["history", "add", "--db", store_url, *map(str, files)]) == 0
    _poison(store_url, value, newest=2)
    capsys.readouterr()
    assert main(["history", "show", "--db", store_url, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out, parse_constant=lambda name: pytest.fail(f"{name} in JSON"))
    assert shown
    assert main(["history", "changes", "--db", store_url, "--json", "-k", TRAIN]) == 1
    changes = json.loads(capsys.readouterr().out)
    assert [c["first_after"] for c in changes if c["regression"]], changes
    assert main(["history", "publish", "--db", store_url, "--out", str(tmp_path / "page")]) == 0
    assert main(["history", "show", "--db", store_url]) == 0


def test_a_run_rewritten_by_bench_run_or_re_serialized_is_one_run(tmp_path, capsys):
    """The same measurements in other bytes (indented, keys reordered, marked interrupted) are the same run."""
    original = history_files(tmp_path, 1)[0]
    results = json.loads(original.read_text())
    store = str(tmp_path / "store.sqlite")
    assert main(["history", "add", "--db", store, str(original)]) == 0
    again = tmp_path / "again.json"
    again.write_text(json.dumps(results, indent=4, sort_keys=True))
    marked = tmp_path / "marked.json"
    results["machine_info"]["suite"]["interrupted"] = "SIGTERM after 15 finished benchmark(s)"
    marked.write_text(json.dumps(results, indent=1))
    before = counts(store)
    capsys.readouterr()
    assert main(["history", "add", "--db", store, str(again), str(marked)]) == 0
    assert "0 run(s) added" in capsys.readouterr().out
    assert counts(store) == before


def test_a_run_stored_by_its_file_digest_is_still_known(tmp_path):
    """Rows written when runs were keyed by their file's bytes are recognised by those bytes."""
    import hashlib

    original = history_files(tmp_path, 1)[0]
    store = str(tmp_path / "store.sqlite")
    assert main(["history", "add", "--db", store, str(original)]) == 0
    with open_store(store).begin() as connection:
        connection.execute(update(runs).values(digest=hashlib.sha256(original.read_bytes()).hexdigest()))
    assert main(["history", "add", "--db", store, str(original)]) == 0
    assert counts(store)[0] == 1


SECRET = "s3cr#t-Pw"


@pytest.mark.parametrize("url", [
    f"postgresql://bench@127.0.0.1:9/none?password={SECRET}",
    f"postgresql://bench:{SECRET}@127.0.0.1:9/none",
    f"postgresql://bench@127.0.0.1:9/none?sslmode=disable&password={SECRET}",
    f"postgresql://bench:{SECRET.replace('#', '%23')}@127.0.0.1:9/none",
    f"postgresql+psycopg://bench@127.0.0.1:9/none?sslpassword={SECRET}",
    f"postgresql://bench:{SECRET}@127.0.0.1:notaport/none",
])  # fmt: skip
def test_a_password_never_shows_in_any_url_form(tmp_path, capsys, url):
    good = history_files(tmp_path, 1)[0]
    assert main(["history", "add", "--db", url, str(good)]) == 2
    err = _one_line_error(capsys)
    assert SECRET not in err and "s3cr" not in err


def test_a_password_never_shows_in_the_page_or_the_add_message(store_url, tmp_path, capsys, monkeypatch):
    """A PostgreSQL store named with ``?password=``: the add message and the published page mask it."""
    if not store_url.startswith("postgresql"):
        pytest.skip("a SQLite store has no password")
    from sqlalchemy.engine import make_url

    parsed = make_url(store_url)
    password = parsed.password
    url = parsed.set(password=None).render_as_string(hide_password=False) + f"?password={password}"
    files = history_files(tmp_path, 2)
    monkeypatch.setenv("PGPASSWORD", password)
    assert main(["history", "add", "--db", url, *map(str, files)]) == 0
    assert main(["history", "publish", "--db", url, "--out", str(tmp_path / "page")]) == 0
    out = capsys.readouterr().out
    page = (tmp_path / "page" / "index.html").read_text()
    for text in (out, page):
        assert f"password={password}" not in text and f":{password}@" not in text


def test_redact_masks_every_form_and_keeps_the_rest(monkeypatch):
    monkeypatch.setenv("BENCH_DB_PASSWORD", "envsecret1")
    assert redact("postgresql://u:pw1@h/db") == "postgresql://u:***@h/db"
    assert redact("postgresql://u@h/db?sslmode=require&password=pw2") == "postgresql://u@h/db?sslmode=require&password=***"
    assert "envsecret1" not in redact("connection failed: password envsecret1 refused")
    assert redact("host=h password='a b c' user=u") == "host=h password=*** user=u"
    assert redact("sqlite:////tmp/bench-history.sqlite") == "sqlite:////tmp/bench-history.sqlite"
    monkeypatch.setenv("PWD", "/work/here")  # the working folder is no secret
    monkeypatch.setenv("OLDPWD", "/tmp")
    assert redact("/work/here/r.json and /tmp/x: pwd=hidden1") == "/work/here/r.json and /tmp/x: pwd=***"


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql+pg8000://u@h/db", "oracle://u@h/db"])
def test_a_store_of_another_kind_or_without_its_driver_is_one_line(capsys, url):
    assert main(["history", "show", "--db", url]) == 2
    _one_line_error(capsys)


NAMES = {
    "mathtext": "test_train_throughput[cnn-$\\alpha$]",
    "long": "test_train_throughput[" + "x" * 230 + "]",
    "html": "test_train_throughput[<script>alert(1)</script>]",
    "pipe and newline": "test_train_throughput[a|b\n# forged heading\n| x | y |]",
    "escape sequences": "test_train_throughput[\x1b[31mred\x1b]0;title\x07\u202e]",
    "punctuation a": "test_train_throughput[a b]",
    "punctuation b": "test_train_throughput[a-b]",
}


def _renamed_files(tmp_path: Path, commits: int) -> list[Path]:
    files = history_files(tmp_path, commits)
    for path in files:
        results = json.loads(path.read_text())
        kept = next(b for b in results["benchmarks"] if b["name"] == TRAIN)
        results["benchmarks"] = [{**json.loads(json.dumps(kept)), "name": name} for name in NAMES.values()]
        results["machine_info"]["suite"]["machine"] = "$m$ <b>|"
        path.write_text(json.dumps(results))
    return files


def test_any_name_renders_literally_and_safely_in_the_store_views(tmp_path, capsys):
    """Page, plots, Markdown and terminal: no mathtext failure, no file name too long, one plot per series,
    no forged row or heading, no raw HTML, no escape sequence reaching the terminal."""
    store = str(tmp_path / "store.sqlite")
    assert main(["history", "add", "--db", store, *map(str, _renamed_files(tmp_path, 3))]) == 0
    capsys.readouterr()
    assert main(["history", "publish", "--db", store, "--out", str(tmp_path / "page")]) == 0
    plots = list((tmp_path / "page" / "plots").glob("*.png"))
    assert len(plots) == len(NAMES) and all(len(p.name) <= 120 for p in plots)
    page = (tmp_path / "page" / "index.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    capsys.readouterr()
    assert main(["history", "show", "--db", store]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    table = [line for line in out.splitlines() if line.startswith("|")]
    assert len(table) == len(NAMES) + 2  # header, rule, a row per series: nothing forged
    assert not [line for line in out.splitlines() if line.startswith("#")]
    assert main(["history", "show", "--db", store, "--json"]) == 0
    assert {row["benchmark"] for row in json.loads(capsys.readouterr().out)} == set(NAMES.values())


def test_any_name_renders_safely_in_compare_and_the_report(tmp_path, capsys):
    def renamed(seed: int) -> Path:
        results = synthetic_results(seed)
        for bench, name in zip(results["benchmarks"], NAMES.values(), strict=False):
            cell = name.split("[", 1)[1]  # each benchmark keeps its kind; its cell takes the odd name
            bench["name"] = f"{bench['name'].split('[', 1)[0]}[{cell}"
            bench["params"] = {"arch": cell[:-1], "api": bench["params"]["api"]}
        return write(tmp_path, f"r{seed}.json", results)

    base, current = renamed(0), renamed(1)
    assert main(["compare", str(base), str(current), "--markdown", str(tmp_path / "COMPARE.md")]) in (0, 1)
    for text in (capsys.readouterr().out, (tmp_path / "COMPARE.md").read_text()):
        rows = [line for line in text.splitlines() if line.startswith("|")]
        assert len(rows) == len(json.loads(base.read_text())["benchmarks"]) + 2
        assert "<script>" not in text and "\x1b" not in text
        assert not [line for line in text.splitlines() if line.startswith("#")]
    assert main(["report", str(current), "--out", str(tmp_path / "report")]) == 0
    report = (tmp_path / "report" / "REPORT.md").read_text()
    assert "<script>" not in report and "&lt;script&gt;" in report and "\x1b" not in report
    assert not [line for line in report.splitlines() if "forged" in line and line.lstrip("|# ").startswith("forged")]


def test_escapes_show_the_string_itself():
    import html

    for name in NAMES.values():
        assert html.unescape(markdown(name)) == terminal(name)
        assert "\n" not in markdown(name) and "|" not in markdown(name) and "<" not in markdown(name)
    assert code("cnn-functional") == "`cnn-functional`" and code("a|b") == "a&#124;b"
    assert file_name("[a b]") != file_name("[a-b]") and len(file_name("x" * 500, suffix=".png")) <= 100


def test_the_out_and_markdown_targets_that_cannot_be_written_are_one_line(tmp_path, capsys):
    results = write(tmp_path, "r.json", synthetic_results(0))
    taken = tmp_path / "a-file"
    taken.write_text("x")
    assert main(["report", str(results), "--out", str(taken)]) == 2
    _one_line_error(capsys)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    assert main(["compare", str(results), str(results), "--markdown", str(folder)]) == 2
    _one_line_error(capsys)
    assert main(["history", "publish", "--db", str(tmp_path / "s.sqlite"), "--out", str(taken)]) == 2
    _one_line_error(capsys)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads and writes past permissions")
def test_an_unreadable_file_and_a_read_only_target_are_one_line(tmp_path, capsys):
    results = write(tmp_path, "r.json", synthetic_results(0))
    results.chmod(0)
    assert main(["compare", str(results), str(results)]) == 2
    _one_line_error(capsys)
    results.chmod(0o644)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    assert main(["report", str(results), "--out", str(locked / "out")]) == 2
    _one_line_error(capsys)


def test_bootstrap_memory_is_bounded_however_many_rounds():
    """20,000 rounds in one benchmark: the bootstrap resamples in batches, not all 2,000 resamples at once."""
    rounds = np.random.default_rng(0).lognormal(0, 0.05, 20_000)
    tracemalloc.start()
    median_ci(rounds)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 100 * 2**20, f"{peak / 2**20:.0f} MiB"


def test_a_huge_number_or_a_deep_nesting_is_refused(tmp_path, capsys):
    path = tmp_path / "odd.json"
    path.write_text('{"benchmarks": [' * 100_000)
    assert main(["compare", str(path), str(path)]) == 2
    _one_line_error(capsys)
    results = synthetic_results(0)
    text = json.dumps(results).replace(str(_get(results, TRAIN, "stats.data")[0]), "1" + "0" * 5000, 1)
    path.write_text(text)
    assert main(["compare", str(path), str(path)]) == 2
    _one_line_error(capsys)


def test_a_measurement_row_with_insert_of_infinity_is_shown_as_a_gap(tmp_path, capsys):
    """An Infinity written straight into a new row (not through the door) is a gap in show --json."""
    files = history_files(tmp_path, 1)
    store = str(tmp_path / "store.sqlite")
    assert main(["history", "add", "--db", store, str(files[0])]) == 0
    with open_store(store).begin() as connection:
        run_id = connection.execute(runs.select()).first().id
        connection.execute(insert(measurements).values(run_id=run_id, benchmark="test_x[y]", kind="train_throughput",
                                                       code_version="v", normalized=float("inf")))  # fmt: skip
    capsys.readouterr()
    assert main(["history", "show", "--db", store, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert next(r for r in rows if r["benchmark"] == "test_x[y]")["latest normalized"] is None
