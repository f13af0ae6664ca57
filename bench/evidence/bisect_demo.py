"""``bench bisect`` on a scratch history: a throwaway copy of the project with 8 more commits, one of which
widens the ``cnn``'s last block (more convolution work in the project's own model code), or none.

``python -m bench.evidence.bisect_demo [--filters 144] [--at 5] [--clean]`` clones this repository into a
temporary folder, commits 8 changes to it (docs notes, and at commit ``--at`` the wider block), runs
``python -m bench bisect HEAD~8 HEAD -k "cnn-functional and train_throughput"`` there, and prints its answer
with the wall time.  ``--clean`` commits only docs notes: the answer must be "no regression".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.core.paths import PROJECT_ROOT

COMMITS = 8
MODEL = Path("implementations/archs/cnn.py")
SELECTION = "cnn-functional and train_throughput"


def _git(folder: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=folder, check=True, capture_output=True, text=True
    ).stdout.strip()


def scratch_history(folder: Path, filters: int | None, at: int) -> str | None:
    """8 commits on a clone in ``folder``; the planted commit's id (None without a plant)."""
    _git(folder.parent, "clone", "--quiet", str(PROJECT_ROOT), folder.name)
    _git(folder, "config", "user.email", "bench@localhost")
    _git(folder, "config", "user.name", "bench")
    planted = None
    for number in range(1, COMMITS + 1):
        if filters is not None and number == at:
            model = folder / MODEL
            text = model.read_text()
            if "FILTERS = (32, 64, 128)" not in text:
                raise SystemExit(f"error: {MODEL} no longer defines FILTERS = (32, 64, 128)")
            model.write_text(text.replace("FILTERS = (32, 64, 128)", f"FILTERS = (32, 64, {filters})"))
            _git(folder, "commit", "--quiet", "-am", f"cnn: a wider last block ({filters} filters)")
            planted = _git(folder, "rev-parse", "HEAD")
        else:
            with open(folder / "docs" / "findings.md", "a", encoding="utf-8") as notes:
                notes.write(f"\n- note {number}\n")
            _git(folder, "commit", "--quiet", "-am", f"docs: note {number}")
    return planted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evidence.bisect_demo", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--filters", type=int, default=144, help="filters of the widened last block")
    parser.add_argument("--at", type=int, default=5, help="which of the 8 commits widens it")
    parser.add_argument("--clean", action="store_true", help="no plant: only docs commits")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-bisect-demo-") as scratch:
        folder = Path(scratch) / "project"
        planted = scratch_history(folder, None if args.clean else args.filters, args.at)
        started = time.monotonic()
        answer = subprocess.run(
            [sys.executable, "-m", "bench", "bisect", f"HEAD~{COMMITS}", "HEAD", "-k", SELECTION,
             "--db", str(Path(scratch) / "history.sqlite"), "--out", str(Path(scratch) / "probes")],
            cwd=folder, capture_output=True, text=True)  # fmt: skip
        wall = time.monotonic() - started
    said = ("bench bisect:", "first bad", "no regression", "inconclusive")
    lines = [line for line in answer.stdout.splitlines() if line.startswith(said)]
    print("\n".join(lines))
    print(f"planted: {planted or 'nothing'}; exit {answer.returncode}; wall {wall / 60:.1f} min")
    expected = 0 if planted is None else 1
    found = planted is None or any(line.startswith(f"first bad commit {planted}") for line in lines)
    return 0 if answer.returncode == expected and found else 1


if __name__ == "__main__":
    sys.exit(main())
