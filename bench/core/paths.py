"""Where the project's folders are: one definition for every module that reads or writes them."""

from __future__ import annotations

from pathlib import Path

#: the source tree (or, installed, the folder that holds the ``bench`` package)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPORTS = PROJECT_ROOT / "reports"
BASELINES = REPORTS / "baselines"
EVIDENCE = REPORTS / "evidence"
#: the pytest-benchmark suite that ``bench run`` runs
SUITE = PROJECT_ROOT / "bench" / "suite"


def project_relative(path: Path) -> str:
    """``path`` relative to the project where it lies inside it, else as given."""
    resolved = path.resolve()
    return str(resolved.relative_to(PROJECT_ROOT)) if resolved.is_relative_to(PROJECT_ROOT) else str(path)
