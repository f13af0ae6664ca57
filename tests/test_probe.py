"""The memory figures of bench.probes.first_step belong to the probe process, not to whoever started it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.core.results import rss_growth
from bench.probes import first_step as probe

MiB = 2**20
PARENT_EXTRA = 600 * MiB  # far above a bare interpreter's few tens of MiB

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _in_child(code: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", f"import json\nfrom bench.probes import first_step as probe\n{code}"],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout)


def test_child_peak_does_not_inherit_the_parent_rss():
    ballast = bytearray(PARENT_EXTRA)
    ballast[::4096] = b"\x01" * len(ballast[::4096])  # touch every page so it is resident
    assert probe.rss_bytes() > PARENT_EXTRA
    child = _in_child("print(json.dumps({'peak': probe.peak_rss_bytes()}))")
    assert child["peak"] < PARENT_EXTRA / 2, child
    del ballast


def test_reset_leaves_a_peak_of_what_follows():
    child = _in_child(
        "\n".join(
            (
                f"ballast = bytearray({PARENT_EXTRA}); ballast[::4096] = b'x' * len(ballast[::4096])",
                "before = probe.peak_rss_bytes(); del ballast",
                "reset = probe.reset_peak_rss()",
                "print(json.dumps({'before': before, 'after': probe.peak_rss_bytes(), 'reset': reset}))",
            )
        )
    )
    assert child["before"] > PARENT_EXTRA
    if not child["reset"]:
        pytest.skip("this kernel does not allow resetting VmHWM through /proc/self/clear_refs")
    assert child["after"] < PARENT_EXTRA / 2, child


def test_results_from_the_inheriting_probe_have_no_rss_figure():
    growth, why = rss_growth({"rss_growth_bytes": 950 * MiB})  # version 1: no version field
    assert growth is None and "parent process" in why
    assert rss_growth({"rss_growth_bytes": 40 * MiB, "rss_probe_version": 2}) == (40 * MiB, None)


def test_a_peak_that_could_not_be_reset_has_no_rss_figure():
    growth, why = rss_growth(
        {"rss_growth_bytes": 900 * MiB, "rss_probe_version": 2, "peak_rss_since_import": False}
    )
    assert growth is None and "could not be reset" in why
