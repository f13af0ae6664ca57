"""bench history publish: a static page, opened in headless Chromium, that shows the regression and every
series' trend plot."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from bench.__main__ import main
from tests.support.history import commit_id, history_files
from tests.support.results import TRAIN

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def _chromium(page: Path, *args: str, profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_the_page_lists_the_regression_and_shows_every_plot(tmp_path, capsys):
    db = str(tmp_path / "store.sqlite")
    assert main(["history", "add", "--db", db, *map(str, history_files(tmp_path, 24, slower_from=14))]) == 0
    assert main(["history", "publish", "--db", db, "--out", str(tmp_path / "site")]) == 0
    page = tmp_path / "site" / "index.html"
    text = page.read_text()
    regressions = text.split('id="regressions"')[1].split('id="index"')[0]
    assert TRAIN in regressions and commit_id(14)[:12] in regressions
    plots = sorted((tmp_path / "site" / "plots").glob("*.png"))
    assert plots and all(f'src="plots/{p.name}"' in text for p in plots)
    if CHROMIUM is None:
        pytest.skip("no Chromium to open the page in (apt-get install chromium; .ci/run installs it)")
    dom = _chromium(page, "--dump-dom", profile=tmp_path / "profile-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert TRAIN in dom.stdout and "regression" in dom.stdout  # the browser parsed it
    shot = tmp_path / "page.png"
    taken = _chromium(
        page, f"--screenshot={shot}", "--window-size=1200,1400", profile=tmp_path / "profile-shot"
    )
    assert taken.returncode == 0 and shot.stat().st_size > 20_000, taken.stderr[-2000:]
