"""What a results file records about the checkout it measured."""

from __future__ import annotations

import subprocess
from datetime import datetime

import pytest

from bench.core.profiles import get_profile
from bench.run import environment


@pytest.fixture
def repo(tmp_path, monkeypatch):
    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "model.py").write_text("x = 1\n")
    git("add", "model.py")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    monkeypatch.setattr(environment, "PROJECT_ROOT", tmp_path)
    return tmp_path


def test_clean_checkout(repo):
    found = environment.checkout()
    assert {key: found[key] for key in ("commit", "changed_paths", "parent")} == {
        "commit": environment.git_commit(), "changed_paths": [], "parent": None}
    committed = subprocess.run(["git", "log", "-1", "--format=%cI"], cwd=repo, capture_output=True, text=True,
                               check=True).stdout.strip()  # fmt: skip
    assert datetime.fromisoformat(found["commit_time"]) == datetime.fromisoformat(committed)
    assert not environment.git_commit().endswith("-dirty")


def test_the_parent_commit_is_recorded_for_the_history(repo):
    first = environment.git_commit()
    (repo / "model.py").write_text("x = 2\n")
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "second"], cwd=repo,
                   check=True)  # fmt: skip
    assert environment.checkout()["parent"] == first != environment.git_commit()


def test_the_measuring_code_version_moves_with_the_measuring_code_only(repo):
    (repo / "bench" / "run").mkdir(parents=True)
    (repo / "implementations" / "archs").mkdir(parents=True)
    (repo / "bench" / "run" / "timing.py").write_text("ROUNDS = 1\n")
    (repo / "implementations" / "archs" / "cnn.py").write_text("FILTERS = (32, 64, 128)\n")
    version = environment.benchmark_code()
    (repo / "implementations" / "archs" / "cnn.py").write_text("FILTERS = (32, 64, 144)\n")  # code under test
    assert environment.benchmark_code() == version
    (repo / "bench" / "run" / "timing.py").write_text("ROUNDS = 2\n")  # how it is measured
    assert environment.benchmark_code() != version


def test_changed_files_are_named(repo):
    (repo / "model.py").write_text("x = 2\n")
    state = environment.checkout()
    assert state["commit"].endswith("-dirty") and state["changed_paths"] == ["model.py"]


def test_commit_is_the_one_at_the_start_of_the_run(repo):
    at_start = environment.checkout()
    (repo / "model.py").write_text("x = 3\n")  # edited while the benchmarks ran
    suite = environment.describe(get_profile("smoke"), "mnist-5k", None, at_start)
    assert suite["commit"] == at_start["commit"] and suite["changed_paths"] == []
    assert "changed during the run" in suite["commit_note"]
    assert "commit_note" not in environment.describe(get_profile("smoke"), "mnist-5k", None)
