"""Parity across Keras backends: the same weights give the same outputs on TensorFlow, JAX and PyTorch.

Each backend runs in its own interpreter (Keras fixes its backend at import);
a backend that is not installed is skipped with the reason shown.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import implementations
from bench.run.crosscheck import export_inputs, outputs

TOLERANCE = 1e-5
BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Inputs file and the TensorFlow-side logits (this process runs the default backend)."""
    rng = np.random.default_rng(0)
    images = rng.random((4, 28, 28, 1), dtype=np.float32)
    weights = {}
    for arch in implementations.ARCHS:
        model = implementations.build(arch, "functional", seed=11)
        values = model.get_weights()
        for index, weight in enumerate(model.weights):  # non-trivial BatchNorm statistics
            if "moving_variance" in weight.path:
                values[index] = rng.uniform(0.5, 2.0, weight.shape).astype("float32")
            elif "moving_mean" in weight.path:
                values[index] = rng.normal(0, 0.1, weight.shape).astype("float32")
        weights[arch] = values
    path = tmp_path_factory.mktemp("crosscheck") / "inputs.npz"
    export_inputs(path, images, weights)
    with np.load(path) as inputs:
        logits = outputs(inputs)
    return path, logits


def test_this_process_runs_the_default_backend():
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_same_outputs_on_other_backend(backend, reference, tmp_path):
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        pytest.skip(f"the {backend} backend is not installed here (pip install .[backends])")
    inputs, expected = reference
    out = tmp_path / f"{backend}.npz"
    completed = subprocess.run(
        [sys.executable, "-m", "bench.run.crosscheck", str(inputs), str(out)],
        env={**os.environ, "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu", "CUDA_VISIBLE_DEVICES": ""},
        capture_output=True,
        text=True,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    with np.load(out) as got:
        assert str(got["backend"]) == backend
        for cell, logits in expected.items():
            np.testing.assert_allclose(
                got[cell], logits, rtol=0, atol=TOLERANCE, err_msg=f"{cell} on {backend}"
            )
