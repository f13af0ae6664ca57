"""pytest plugin (``bench run`` loads it): a results file never depends on a benchmark that recorded no round.

A signal can land while a benchmark is being set up or is in its first round. pytest-benchmark has then
registered the benchmark with no rounds, and its JSON writer fails on it (``min()`` of an empty
sequence). That failure loses every benchmark that had finished. Here such benchmarks are left out of
the file before it is written, and named in it (``unfinished_benchmarks``).
"""

from __future__ import annotations

import os

import pytest

from bench.run.supervise import FALLBACK_ENV

_UNFINISHED = pytest.StashKey[list]()


@pytest.hookimpl(tryfirst=True)
def pytest_benchmark_generate_json(config, benchmarks, include_data, machine_info, commit_info):
    """Drop the benchmarks without a round from the list the writer reads; the default writer goes on."""
    config.stash[_UNFINISHED] = [bench.name for bench in benchmarks if not bench.stats.data]
    benchmarks[:] = [bench for bench in benchmarks if bench.stats.data]


def pytest_benchmark_update_json(config, benchmarks, output_json):
    unfinished = config.stash.get(_UNFINISHED, [])
    if unfinished:
        output_json["unfinished_benchmarks"] = unfinished




def pytest_sessionstart(session):
    """A results file that cannot be written (a full disk, a folder gone) is written to the fallback path
    ``bench run`` names instead: what was measured is kept, and ``bench run`` says where."""
    benchmarks = getattr(session.config, "_benchmarksession", None)  # made in pytest-benchmark's configure
    fallback = os.environ.get(FALLBACK_ENV)
    if benchmarks is None or not getattr(benchmarks, "json", None) or not fallback:
        return
    write = benchmarks.save_json

    def save_json(output_json):
        try:
            write(output_json)
        except OSError as error:
            benchmarks.json = fallback
            write(output_json)
            print(f"bench run: could not write the results ({error.strerror}); kept in {fallback}", flush=True)

    benchmarks.save_json = save_json
