"""The layers of bench/ hold: the import contracts in pyproject.toml, and what the CI check loads when it runs."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _loaded(code: str) -> set[str]:
    """The modules of this project (and the frameworks) that ``code`` leaves in sys.modules."""
    shown = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return {m for m in shown.stdout.split() if m.startswith(("bench", "implementations", "keras"))}


def test_the_regression_check_loads_no_evidence_tooling_and_no_framework():
    loaded = _loaded("from bench.check import regress, compare, framework_gate")
    assert not {m for m in loaded if m.startswith("bench.evidence")}, loaded
    assert not {m for m in loaded if m.startswith(("keras", "implementations", "bench.run", "bench.probes"))}


def test_the_command_line_loads_nothing_before_a_command_runs():
    assert _loaded("import bench.__main__") == {"bench", "bench.__main__"}


@pytest.mark.skipif(shutil.which("lint-imports") is None, reason="import-linter not installed (tox -e tests has it)")
def test_the_import_contracts_are_kept():
    checked = subprocess.run(["lint-imports"], cwd=ROOT, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout[-3000:]
    assert "0 broken" in checked.stdout


def test_no_module_takes_part_in_an_import_circle():
    """Not between layers (the contracts) and not inside one: no module imports, however indirectly, a
    module that imports it back."""
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (tox -e tests has it)")
    graph = grimp.build_graph("bench", "reports", "implementations")
    circles = [
        (module, imported)
        for module in sorted(graph.modules)
        for imported in graph.find_modules_directly_imported_by(module)
        if graph.chain_exists(importer=imported, imported=module)
    ]
    assert circles == []
