"""The README stays a two-minute read, and every command and page it names exists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_readme_is_short_and_the_method_lives_in_docs():
    assert len(README.splitlines()) <= 120
    for page in ("method", "regression-check", "evidence", "findings"):
        assert (ROOT / "docs" / f"{page}.md").is_file() and f"docs/{page}.md" in README


def test_every_module_the_docs_run_exists():
    text = README + "".join(p.read_text(encoding="utf-8") for p in (ROOT / "docs").glob("*.md"))
    modules = set(re.findall(r"python -m (bench[\w.]*)", text))
    assert {"bench", "bench.check.framework_gate", "bench.evidence", "bench.evidence.calibration"} <= modules
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    assert not missing, missing


def test_every_link_of_the_readme_and_docs_points_to_a_file():
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)\)", page.read_text(encoding="utf-8")):
            if "://" not in target:
                assert (page.parent / target).exists(), f"{page.name}: {target}"
