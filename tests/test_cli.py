"""Command-line error paths: one clear line on stderr, exit status 2, nothing written."""

import subprocess
import sys

import pytest


def run(*args, env=None):
    import os

    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["run", "--profile", "huge", "--out", "{out}"], {}, "unknown profile 'huge'"),
        (["run", "--out", "{out}"], {"BENCH_OVERRIDES": "[1]"}, "unknown profile fields"),
        (["run", "--out", "{out}"], {"BENCH_JIT": "sometimes"}, "BENCH_JIT must be"),
        (["data", "cifar"], {}, "unknown dataset 'cifar'"),
        (["report", "{out}", "--out", "{dir}"], {}, "results file not found"),
        (["compare", "{out}", "{out}"], {}, "results file not found"),
    ],
    ids=["profile", "overrides", "jit", "dataset", "report-missing", "compare-missing"],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, env, message):
    out = tmp_path / "results.json"
    args = [a.format(out=out, dir=tmp_path / "report") for a in args]
    result = run(*args, env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
    assert not out.exists()
