"""What each API's model can do on this run's backend: the capability probes of :mod:`bench.probes.capabilities`.

The verdicts go into the results file beside the timings, so a report built from
runs on several backends shows each backend's own answers.
"""

from __future__ import annotations

import pytest

import implementations
from bench.probes.capabilities import probe_architecture
from bench.run import backend_ops


@pytest.mark.parametrize("arch", implementations.ARCHS)
def test_capabilities(benchmark, profile, arch):
    if not profile.capabilities:
        pytest.skip(f"n/a: the {profile.name} profile probes no capabilities")
    verdicts: dict = {}
    benchmark.pedantic(lambda: verdicts.update(probe_architecture(arch)), rounds=1, iterations=1)
    assert set(verdicts) == set(implementations.model_set(arch).apis)
    benchmark.extra_info.update(
        {
            "backend": backend_ops.backend_name(),
            "device": backend_ops.accelerator() or "CPU",
            "capabilities": verdicts,
        }
    )
