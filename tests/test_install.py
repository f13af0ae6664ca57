"""A non-editable install works away from the source tree: `pip install .`, then bench report, compare and run.

The fresh virtual environment gets this package from ``pip install .`` and nothing else of this project;
its third-party packages (TensorFlow, pandas, ...) are borrowed from the test environment through a .pth
file, so the test costs seconds, not a TensorFlow download.  `.ci/run` also installs into an environment
of its own with every dependency.
"""

from __future__ import annotations

import os
import re
import subprocess
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "reports" / "cpu" / "results-torch.json"


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh virtual environment with this project installed from its source tree."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    Path(purelib, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(ROOT)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"pip install . failed: {done.stderr[-2000:]}")
    return python


def _bench(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([python, "-m", "bench", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_installed_package_is_the_one_that_runs(installed, tmp_path):
    where = subprocess.run([installed, "-c", "import bench, implementations; print(bench.__file__, implementations.__file__)"],
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert str(ROOT) not in where and "site-packages" in where


def test_report_and_compare_work_from_outside_the_source_tree(installed, tmp_path):
    done = _bench(installed, tmp_path, "report", str(COMMITTED), "--out", "out")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "## The answer" in (tmp_path / "out" / "REPORT.md").read_text()
    assert _bench(installed, tmp_path, "compare", str(COMMITTED), str(COMMITTED)).returncode == 0
    foreign = tmp_path / "foreign.json"
    foreign.write_text("{}")
    bad = _bench(installed, tmp_path, "report", str(foreign), "--out", "out")
    assert bad.returncode == 2 and bad.stderr.startswith("error: ") and "Traceback" not in bad.stderr


def test_run_works_from_outside_the_source_tree(installed, tmp_path):
    done = _bench(installed, tmp_path, "run", "--profile", "smoke", "--out", "r.json", "-k",
                  "cnn-sequential and inference")  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "test_inference_throughput[cnn-sequential]" in (tmp_path / "r.json").read_text()


def test_the_package_list_is_complete():
    """Every package of the source tree is installed: setuptools finds them rather than a list naming them."""
    from setuptools import find_packages

    found = set(find_packages(str(ROOT), include=["bench", "bench.*", "implementations", "implementations.*"]))
    on_disk = {
        str(init.parent.relative_to(ROOT)).replace(os.sep, ".")
        for top in ("bench", "implementations")
        for init in (ROOT / top).rglob("__init__.py")
        if ".tox" not in init.parts
    }
    assert on_disk <= found and "bench.check.duet" in found


OWN_MODELS = ROOT / "tests" / "models"


@pytest.mark.parametrize(
    ("file", "name", "apis"),
    [
        ("text_tokens.py", "textcls", ("Sequential", "Functional", "Subclassing", "Functional subclass")),
        ("two_inputs.py", "twoinput", ("Functional", "Subclassing", "Functional subclass")),
        ("single_api.py", "solo", ("Functional",)),
    ],
)
def test_a_users_models_file_goes_run_then_report_from_the_installed_package(installed, tmp_path, file, name,
                                                                            apis):  # fmt: skip
    """A copy of the file in a folder of its own, outside the source tree, as a user would have it."""
    own = tmp_path / "user" / file
    own.parent.mkdir()
    own.write_text((OWN_MODELS / file).read_text())
    done = _bench(installed, own.parent, "run", "--profile", "smoke", "--models", file, "--out", "r.json")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "parity: " in done.stdout
    report = _bench(installed, own.parent, "report", "r.json", "--out", "report")
    assert report.returncode == 0, report.stderr[-2000:]
    text = (own.parent / "report" / "REPORT.md").read_text()
    answer = text.split("## Per backend")[0]
    assert re.search(rf"### `{name}`: (use |tie: )", answer), answer
    shown = [line.split("|")[1].strip() for line in answer.splitlines() if line.startswith("| ")][1:]
    assert tuple(api for api in shown if api in apis) == apis and len(shown) == len(apis), answer
