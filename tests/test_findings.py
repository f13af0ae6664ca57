"""README's "What it found" and docs/findings.md quote only figures the committed results give."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.__main__ import main
from bench.report import findings
from bench.report.build import findings_of

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = sorted((ROOT / "reports" / "cpu").glob("results-*.json"))


@pytest.fixture(scope="module")
def blocks() -> dict[str, list[str]]:
    return findings_of(COMMITTED)


@pytest.fixture(scope="module")
def generated(blocks) -> list[str]:
    return blocks["findings"]


@pytest.mark.parametrize(("document", "block"),
                         [("README.md", "summary"), ("docs/findings.md", "findings"), ("docs/method.md", "verdicts")])
def test_the_findings_are_what_the_committed_results_give(blocks, document, block):
    assert findings.block_in(ROOT / document, block) == blocks[block], (
        f"{document} is stale: python -m bench report {' '.join(p.relative_to(ROOT).as_posix() for p in COMMITTED)}"
        " --out reports/cpu --findings README.md docs/findings.md docs/method.md"
    )


def test_the_findings_name_each_verdict_and_the_speed_on_every_backend(generated):
    text = " ".join(generated)
    for backend in ("TensorFlow", "JAX", "PyTorch"):
        assert backend in text
    assert "`cnn`: " in text and "`resnet`: " in text


def test_a_figure_edited_by_hand_is_put_back_and_a_file_without_markers_refused(tmp_path, capsys):
    readme = tmp_path / "README.md"
    shutil.copy(ROOT / "README.md", readme)
    edited = readme.read_text().replace("Speed barely separates", "Speed clearly separates")
    readme.write_text(edited)
    assert findings.block_in(readme, "summary") != findings_of(COMMITTED)["summary"]
    assert main(["report", *map(str, COMMITTED), "--out", str(tmp_path / "out"), "--findings", str(readme)]) == 0
    assert findings.block_in(readme, "summary") == findings_of(COMMITTED)["summary"]
    plain = tmp_path / "plain.md"
    plain.write_text("no markers\n")
    capsys.readouterr()
    assert main(["report", *map(str, COMMITTED), "--out", str(tmp_path / "o2"), "--findings", str(plain)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: --findings {plain} holds no generated block") and err.count("\n") == 1
