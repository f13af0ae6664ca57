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
    # the build backend (setuptools) is borrowed too: .ci/run builds in an isolated environment of pip's own
    done = subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(ROOT)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.fail(f"pip install . failed: {done.stderr[-2000:]}")
    return python


def _bench(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([python, "-m", "bench", *args], cwd=cwd, env=env, capture_output=True, text=True)


def test_the_installed_package_is_the_one_that_runs(installed, tmp_path):
    # where the imports resolve, found without importing them (implementations would start TensorFlow)
    code = "from importlib.util import find_spec; print(*(find_spec(n).origin for n in ('bench', 'implementations')))"
    where = subprocess.run([installed, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert str(ROOT) not in where and "site-packages" in where, where


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
USERS_FILES = {"text_tokens.py": "textcls", "two_inputs.py": "twoinput", "single_api.py": "solo"}


@pytest.fixture(scope="module")
def users_run(installed, tmp_path_factory) -> tuple[subprocess.CompletedProcess, str]:
    """Copies of the users' models files in a folder of their own, outside the source tree, as a user would
    have them, through one `bench run` (the framework started once for all three) and `bench report`."""
    own = tmp_path_factory.mktemp("user")
    for file in USERS_FILES:
        (own / file).write_text((OWN_MODELS / file).read_text())
    done = _bench(installed, own, "run", "--profile", "smoke", "--models", *USERS_FILES, "--out", "r.json")
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    report = _bench(installed, own, "report", "r.json", "--out", "report")
    assert report.returncode == 0, report.stderr[-2000:]
    return done, (own / "report" / "REPORT.md").read_text()


@pytest.mark.parametrize(
    ("file", "apis"),
    [
        ("text_tokens.py", ("Sequential", "Functional", "Subclassing", "Functional subclass")),
        ("two_inputs.py", ("Functional", "Subclassing", "Functional subclass")),
        ("single_api.py", ("Functional",)),
    ],
)
def test_a_users_models_file_goes_run_then_report_from_the_installed_package(users_run, file, apis):
    """Each file's parity line, and in the report's answer its verdict and a row per API it gives, only those."""
    done, text = users_run
    name = USERS_FILES[file]
    assert f"parity: {name} " in done.stdout, done.stdout[-2000:]
    answer = text.split("## Per backend")[0]
    match = re.search(rf"### `{name}`: (use |tie: ).*?(?=\n### |\Z)", answer, re.S)
    assert match, answer
    shown = [line.split("|")[1].strip() for line in match.group(0).splitlines() if line.startswith("| ")]
    rows = shown[1 : shown.index("capability") if "capability" in shown else None]
    assert tuple(api for api in rows if api in apis) == apis and len(rows) == len(apis), match.group(0)
