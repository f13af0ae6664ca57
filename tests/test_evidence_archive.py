"""Stored evidence packed into archives: read back byte for byte, the same tables as from plain folders."""

from __future__ import annotations

import json

from bench.evidence import archive, campaigns
from tests.support.results import synthetic_results


def test_a_packed_folder_reads_as_the_folder_did(tmp_path):
    runs = tmp_path / "campaign" / "runs"
    runs.mkdir(parents=True)
    for name, seed in ((f"{campaigns.BASELINE}-0", 0), ("a-a-0", 1), (f"{campaigns.BASELINE}{campaigns.AGAIN}-0", 2),
                       (f"a-a{campaigns.AGAIN}-0", 3)):  # fmt: skip
        (runs / f"{name}.json").write_text(json.dumps(synthetic_results(seed)))
    before = {p.name: p.read_bytes() for p in runs.iterdir()}
    plain = campaigns.stored_trials(runs, "a-a")
    packed = archive.pack(runs)
    assert packed == tmp_path / "campaign" / "runs.zip" and not runs.exists() and archive.present(runs)
    unpacked = archive.stored(runs)
    assert {p.name: p.read_bytes() for p in unpacked.iterdir()} == before
    assert [[(b["benchmarks"], c["benchmarks"]) for b, c in t] for t in campaigns.stored_trials(runs, "a-a")] == [
        [(b["benchmarks"], c["benchmarks"]) for b, c in t] for t in plain
    ]
    again = tmp_path / "again" / "runs"
    again.mkdir(parents=True)
    for name, data in before.items():
        (again / name).write_bytes(data)
    assert archive.pack(again).read_bytes() == packed.read_bytes()  # the same files, the same archive


def test_every_stored_campaign_is_packed():
    """No results file of a campaign lies loose in the tree: each runs folder is one archive."""
    from bench.core.paths import EVIDENCE

    loose = [p for p in EVIDENCE.rglob("runs/*.json")]
    assert loose == [] and len(list(EVIDENCE.rglob("runs.zip"))) >= 20
