"""What a results file records about the checkout it measured."""

from __future__ import annotations

import subprocess

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
    assert environment.checkout() == {"commit": environment.git_commit(), "changed_paths": []}
    assert not environment.git_commit().endswith("-dirty")


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
