"""Shared test setup: quiet TensorFlow logging before any backend is imported, the smoke profile."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("BENCH_PROFILE", "smoke")

from bench.run.timing import thread_environment  # noqa: E402

# The test workers share the cores one each: every framework in them, and in every process a test starts,
# keeps one kernel thread, so none spins waiting for a core another worker holds.  No test measures time.
for _name, _value in thread_environment(1).items():
    os.environ.setdefault(_name, _value)

import pytest  # noqa: E402

from tests.support import other_backends  # noqa: E402
from tests.support.stores import store_url  # noqa: E402, F401  (a store of each kind, for the history's tests)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """A test file per worker at a time (--dist loadfile), except that the files computing on other backends
    go to one worker together: there they share one process per backend (tests/support/other_backends.py)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharingOtherBackends(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            scope = super()._split_scope(nodeid)
            return "other backends" if scope.rpartition("/")[2] in other_backends.USERS else scope

    return SharingOtherBackends(config, log)


@pytest.fixture(autouse=True)
def _history_store_per_test(tmp_path, monkeypatch):
    """Every test's history store is its own file (bench regress and bisect record their runs): the tests
    never write into the project's store."""
    monkeypatch.setenv("BENCH_HISTORY_DB", str(tmp_path / "history.sqlite"))
