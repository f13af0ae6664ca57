"""Shared test setup: quiet TensorFlow logging before any backend is imported; the report's capability
probing answered from a fixture."""

import json
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("BENCH_PROFILE", "smoke")

# What bench.capabilities.probe_architecture("cnn") answered on TensorFlow (tests/test_capabilities.py
# checks the probes themselves); the saved smoke run holds no probes, so the report probes at build time.
PROBED_CNN = {
    api: {
        "summary() output shapes": "yes" if api != "subclassing" else "partly: 5 rows for 7 weighted layers",
        "feature extraction via keras.Model(inputs, layer.output)": "yes (block1_relu: (28, 28, 64))"
        if api != "subclassing"
        else "no: AttributeError: 'SubclassedCNN' object has no attribute 'inputs'",
        "build(shape) then load_weights on a new model": "yes"
        if api != "subclassing"
        else "no: build() left 0 weights, load_weights loaded nothing it could use, outputs differ",
        "eager model(x) vs compiled predict, batch 1": "18.6 ms eager vs 3.9 ms compiled (×4.8)",
        "lines of code": {"sequential": 7, "functional": 9, "subclassing": 44}[api],
    }
    for api in ("sequential", "functional", "subclassing")
}


@pytest.fixture
def probed_at_build_time(monkeypatch):
    """The report's fallback probing, answered from PROBED_CNN; the calls are counted."""
    import bench.capabilities
    from reports import build

    calls = []
    monkeypatch.setattr(build, "_PROBED_HERE", {})
    monkeypatch.setattr(
        bench.capabilities,
        "probe_architecture",
        lambda arch: calls.append(arch) or json.loads(json.dumps(PROBED_CNN)),
    )
    return calls
