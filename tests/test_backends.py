"""Parity across Keras backends: the same weights give the same outputs on TensorFlow, JAX and PyTorch.

Each other backend runs in its own interpreter (Keras fixes its backend at import), shared with the
other tests that compute on it (tests/support/other_backends.py); a backend that is not installed is skipped
with the reason shown.
"""

from __future__ import annotations

import importlib.util
import os

import keras
import numpy as np
import pytest

from tests.support import other_backends

TOLERANCE = 1e-5
BACKEND_MODULES = {"tensorflow": "tensorflow", "jax": "jax", "torch": "torch"}


def test_this_process_runs_the_default_backend():
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_same_outputs_on_other_backend(backend):
    """The weights and images of crosscheck_reference, whose logits this process computed on its backend."""
    if importlib.util.find_spec(BACKEND_MODULES[backend]) is None:
        pytest.skip(f"the {backend} backend is not installed here (pip install .[backends])")
    _, expected = other_backends.crosscheck_reference()
    with np.load(other_backends.figures(backend, "crosscheck")) as got:
        assert str(got["backend"]) == backend
        for cell, logits in expected.items():
            np.testing.assert_allclose(
                got[cell], logits, rtol=0, atol=TOLERANCE, err_msg=f"{cell} on {backend}"
            )
