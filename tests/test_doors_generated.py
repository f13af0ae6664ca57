"""Generated and mutated results files at the doors (hypothesis): ``history add``, ``compare`` and ``report``
each end in exit 0, 1 (a regression) or 2 (refused), never a traceback, and an add refused leaves the store
as it was.  The run's seed is printed with any failure (``BENCH_HYPOTHESIS_SEED`` replays it)."""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from bench.__main__ import main
from tests.support.history import history_files
from tests.test_history import counts

SEED = int(os.environ.get("BENCH_HYPOTHESIS_SEED") or random.SystemRandom().randrange(2**32))
EXAMPLES = int(os.environ.get("BENCH_HYPOTHESIS_EXAMPLES", "60"))

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=4),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


def _paths(value, here=()) -> list[tuple]:
    """Every location in parsed JSON, as a tuple of keys and indices."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:6]):  # a few rounds of each list are as telling as all
            found += _paths(item, (*here, index))
    return found


def _mutated(original: dict, draw) -> str:
    results = json.loads(json.dumps(original))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(results) if p]
        where = draw(st.sampled_from(paths))
        parent = results
        for key in where[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "replace", "delete", "duplicate"]))
        if action == "delete":
            del parent[where[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(json.loads(json.dumps(parent[where[-1]])))
        else:
            parent[where[-1]] = draw(JUNK)
        note(f"{action} at {where!r}")
    text = json.dumps(results)
    if draw(st.integers(0, 9)) == 0:  # now and then cut short, as a full disk leaves a file
        text = text[: draw(st.integers(0, len(text)))]
    return text


WORDS = ["", "x", "cnn", "resnet", "functional", "sequential", "subclassing", "native", "a|b", "<b>", "$x$", "é", "["]


def _semantic(original: dict, rng) -> str:
    """A file of the right shape whose names, cells and fields are rearranged as a careless tool might."""
    results = json.loads(json.dumps(original))
    for _ in range(rng.randint(1, 4)):
        benches = results["benchmarks"]
        bench = rng.choice(benches) if benches else None
        action = rng.randrange(8)
        if action == 0 and bench:
            bench["name"] = rng.choice(["test_x", "test_train_throughput", "test_accuracy"]) + rng.choice(
                ["", f"[{rng.choice(WORDS)}-{rng.choice(WORDS)}]"])  # fmt: skip
        elif action == 1 and bench:
            bench["params"] = {key: rng.choice(WORDS) for key in rng.sample(["arch", "api"], rng.randint(0, 2))}
        elif action == 2 and benches:
            benches.pop(rng.randrange(len(benches)))
        elif action == 3 and bench and bench["extra_info"]:
            bench["extra_info"].pop(rng.choice(sorted(bench["extra_info"])))
        elif action == 4 and bench:
            bench["extra_info"]["capabilities"] = {rng.choice(WORDS): {rng.choice(WORDS): rng.choice(WORDS)}}
        elif action == 5 and bench:
            bench["extra_info"]["backend" if rng.random() < 0.5 else "reference"] = rng.choice(WORDS)
        elif action == 6:
            results["machine_info"]["suite"]["backend"] = rng.choice([*WORDS, None])
        elif action == 7 and bench:
            bench["stats"]["data"] = bench["stats"]["data"][: rng.randint(1, 3)]
    return json.dumps(results)


def test_rearranged_files_of_the_right_shape_never_crash_the_report(originals, tmp_path_factory, capsys):
    """Names, cells and fields rearranged inside a well-formed file: the report, compare and the history end in
    exit 0, 1 or 2, never a traceback."""
    good, other = originals
    original = json.loads(other.read_text())

    @seed(SEED)
    @settings(max_examples=EXAMPLES // 2, deadline=None, database=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(st.randoms(use_true_random=False))
    def one(rng):
        folder = tmp_path_factory.mktemp("rearranged")
        bad = folder / "rearranged.json"
        bad.write_text(_semantic(original, rng))
        assert main(["report", str(bad), "--out", str(folder / "report")]) in (0, 2)
        assert main(["compare", str(good), str(bad)]) in (0, 1, 2)
        store = str(folder / "store.sqlite")
        if main(["history", "add", "--db", store, str(bad)]) == 0:
            assert main(["history", "publish", "--db", store, "--out", str(folder / "page")]) == 0
        err = capsys.readouterr().err
        assert "Traceback" not in err and all(line.startswith("error: ") for line in err.splitlines())

    try:
        one()
    except BaseException:
        print(f"hypothesis seed {SEED}: replay with BENCH_HYPOTHESIS_SEED={SEED}")
        raise


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("originals")
    return tuple(history_files(folder, 2))


def test_generated_and_mutated_files_end_in_exit_0_1_or_2(originals, tmp_path_factory, capsys):
    good, other = originals
    original = json.loads(other.read_text())
    tried = []
    holding_good = tmp_path_factory.mktemp("store") / "store.sqlite"  # each example adds to a copy of it
    assert main(["history", "add", "--db", str(holding_good), str(good)]) == 0

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, print_blob=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])  # fmt: skip
    @given(st.data())
    def one(data):
        folder = tmp_path_factory.mktemp("mutated")
        bad = folder / "mutated.json"
        bad.write_text(_mutated(original, data.draw))
        store = str(shutil.copy(holding_good, folder / "store.sqlite"))
        before = counts(store)
        added = main(["history", "add", "--db", store, str(bad)])
        assert added in (0, 2)
        if added == 2:
            assert counts(store) == before
        assert main(["compare", str(good), str(bad)]) in (0, 1, 2)
        if data.draw(st.integers(0, 3)) == 0:  # a report draws plots: a quarter of the examples
            assert main(["report", str(bad), "--out", str(folder / "report")]) in (0, 2)
        for view in (["show"], ["changes"], ["show", "--json"]):
            assert main(["history", *view, "--db", store]) in (0, 1)
        err = capsys.readouterr().err
        assert "Traceback" not in err and all(line.startswith("error: ") for line in err.splitlines())
        tried.append(added)

    try:
        one()
    except BaseException:
        print(f"hypothesis seed {SEED}: replay with BENCH_HYPOTHESIS_SEED={SEED}")
        raise
    print(f"{len(tried)} generated files, {tried.count(2)} refused at the door (seed {SEED})")
