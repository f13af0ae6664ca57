"""The CI check picks the baseline of this CPU model, or measures the baseline commit here."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench import regress
from bench.machine import cpu_model, cpu_slug

FIXTURE = Path(__file__).parent / "data" / "smoke-cnn-results.json"


def test_baselines_are_named_by_backend_and_cpu_model():
    assert cpu_slug("Intel(R) Xeon(R) Processor @ 2.50GHz") == "intel-r-xeon-r-processor-2-50ghz"
    assert cpu_slug("AMD EPYC 9B14") == "amd-epyc-9b14"
    assert regress.baseline_path("jax", "AMD EPYC 9B14").name == "ci-jax-amd-epyc-9b14.json"


def test_without_a_baseline_for_this_cpu_the_baseline_commit_is_measured_here(tmp_path, monkeypatch):
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    recorded = FIXTURE.read_text().replace('"commit": "', f'"commit": "{head}", "was": "', 1)
    (baselines / "ci-tensorflow-some-other-cpu.json").write_text(recorded)
    monkeypatch.setattr(regress, "BASELINES", baselines)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    runs = []

    def fake_run(root: Path, out: Path, extra_args):
        runs.append(root)
        assert (root / "bench" / "regress.py").is_file()  # a checkout of the baseline commit
        shutil.copy(FIXTURE, out)
        return 0

    monkeypatch.setattr(regress, "_bench_run", fake_run)
    assert regress.regress(tmp_path / "out") == 0
    assert len(runs) == 2 and runs[0] != regress.PROJECT_ROOT and runs[1] == regress.PROJECT_ROOT
    assert not runs[0].exists()  # the worktree is removed
    assert (tmp_path / "out" / "baseline-here.json").is_file()


def test_no_baseline_at_all_is_one_line_and_exit_2(tmp_path):
    code = (
        "import sys; from pathlib import Path; from bench import regress, __main__ as cli;"
        f"regress.BASELINES = Path({str(tmp_path)!r});"
        f"sys.exit(cli.main(['regress', '--out', {str(tmp_path)!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert "no ci baseline" in result.stderr


def test_this_machine_has_a_name():
    assert cpu_model() and cpu_slug()


@pytest.mark.parametrize("name", sorted(p.name for p in regress.BASELINES.glob("ci-*.json")))
def test_committed_baselines_are_named_after_their_cpu(name):
    from bench.results import load

    suite = load(regress.BASELINES / name)["machine_info"]["suite"]
    assert name == regress.baseline_path(suite["backend"], suite["cpu_model"]).name
    assert suite["settings"]["threads"] == 1 and suite["commit"] and not suite["commit"].endswith("-dirty")
