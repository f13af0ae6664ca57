"""What the tests compute on Keras backends other than their own: a fresh process per backend, started once.

Keras fixes its backend at import, so JAX and PyTorch each need an interpreter of their own, and starting one
imports the framework.  The native parity (tests/test_native.py), the cross-backend outputs
(tests/test_backends.py) and the distribution and compile probes (tests/test_capabilities.py) of one backend
are therefore computed together, in one process per backend and test process; tests/conftest.py keeps the
three files on one test worker, so that each backend's process starts once in the whole run.

The process runs its jobs in a fixed order: on JAX the distribution probe first, since it sets its own device
flags before JAX starts, as it does when `bench run` starts it; on PyTorch the compile probe last, since it
breaks torch.compile and Keras' compile on purpose.  A job that fails fails only the tests that read it.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
#: the test files that read this module's figures (tests/conftest.py schedules them on one worker)
USERS = ("test_backends.py", "test_capabilities.py", "test_native.py")
CROSSCHECK_SEED = 0


@functools.cache
def _scratch() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="bench-other-backends-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


@functools.cache
def crosscheck_reference() -> tuple[Path, dict]:
    """(inputs file, logits of every cell on this process's backend): random images and, per arch, the
    weights of a Functional model with non-trivial BatchNorm statistics, for every backend to compute with."""
    import numpy as np

    import implementations
    from bench.run.crosscheck import export_inputs, outputs
    from tests.support.weights import with_batchnorm_statistics

    rng = np.random.default_rng(CROSSCHECK_SEED)
    images = rng.random((4, 28, 28, 1), dtype=np.float32)
    weights = {arch: with_batchnorm_statistics(implementations.build(arch, "functional", seed=11), rng)
               for arch in implementations.ARCHS}  # fmt: skip
    path = _scratch() / "crosscheck-inputs.npz"
    export_inputs(path, images, weights)
    with np.load(path) as inputs:
        return path, outputs(inputs)


@functools.cache
def _figures(backend: str) -> dict:
    from bench.run.timing import thread_environment

    inputs, _ = crosscheck_reference()
    completed = subprocess.run(
        [sys.executable, "-m", "tests.support.other_backends", backend, str(inputs),
         str(_crosscheck_path(backend))],  # fmt: skip
        env={**os.environ, **thread_environment(1), "KERAS_BACKEND": backend, "JAX_PLATFORMS": "cpu",
             "CUDA_VISIBLE_DEVICES": ""},  # fmt: skip
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _crosscheck_path(backend: str) -> Path:
    return _scratch() / f"crosscheck-{backend}.npz"


def figures(backend: str, job: str):
    """What ``job`` ("native", "crosscheck", "distribution", "compile") gave on ``backend``; the crosscheck's
    is the path of its outputs file."""
    found = _figures(backend)
    assert job in found, f"no {job} job runs on {backend}"
    assert "error" not in found[job], f"{job} on {backend} failed:\n{found[job]['error']}"
    return _crosscheck_path(backend) if job == "crosscheck" else found[job]["value"]


def _distribution() -> dict:
    """The distribution probe as `bench run` starts it, then its model-parallel part again with each model's
    map keyed by other paths than the model's own (broken on purpose)."""
    import numpy as np

    import implementations
    from bench.probes import distributed

    as_built = distributed.main("cnn")
    build, calls = implementations.build, []

    def renamed(arch, api, seed=None):
        calls.append(api)
        model = build(arch, api, seed=seed)
        if calls.count(api) == 1:  # the copy each model's map takes its keys from
            for variable in model.weights:
                variable._path = "other_model/" + variable.path
        return model

    implementations.build = renamed
    try:
        images = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
        return {"as built": as_built, "renamed": distributed.model_parallel("cnn", images, np.arange(8) % 10)}
    finally:
        implementations.build = build


def _compile() -> dict:
    """The PyTorch compile probe with jit_compile=True broken two ways: another learning rate, and in the
    "eager" case Keras falling back to eager as well.  torch.compile becomes the identity (no inductor)."""
    import keras
    import torch

    from bench.probes import torch_jit

    real_compile, real_model_compile, trained = torch.compile, keras.Model.compile, torch_jit._trained
    case, eager = [], {}

    def broken(self, *args, **kwargs):
        real_model_compile(self, *args, **kwargs)
        if kwargs.get("jit_compile"):
            self.optimizer.learning_rate.assign(0.2)
            if case[-1] == "eager":
                self.jit_compile = False

    def eager_once(arch, api, jit, images, labels):  # the eager runs are the same in both cases: trained once
        if jit:
            return trained(arch, api, jit, images, labels)
        if api not in eager:
            eager[api] = trained(arch, api, jit, images, labels)
        return eager[api]

    torch.compile = lambda fn=None, *args, **kwargs: fn if fn is not None else (lambda f: f)
    keras.Model.compile, torch_jit._trained = broken, eager_once
    said = {}
    try:
        for name in ("eager", "compiled"):
            case.append(name)
            said[name] = torch_jit.main("cnn")
    finally:
        torch.compile, keras.Model.compile, torch_jit._trained = real_compile, real_model_compile, trained
    return said


def _native(backend: str) -> dict:
    from tests import test_native  # imports Keras: only once the jobs before it have run

    return test_native.figures_on_this_backend(backend)


def _jobs(backend: str, inputs: str, out: str) -> dict:
    from bench.run import crosscheck

    native = functools.partial(_native, backend)
    cross = functools.partial(crosscheck.main, [inputs, out])
    if backend == "jax":
        return {"distribution": _distribution, "native": native, "crosscheck": cross}
    return {"native": native, "crosscheck": cross, **({"compile": _compile} if backend == "torch" else {})}


def main(backend: str, inputs: str, out: str) -> dict:
    found = {}
    for name, job in _jobs(backend, inputs, out).items():
        try:
            found[name] = {"value": job()}
        except Exception:
            found[name] = {"error": traceback.format_exc()[-3000:]}
    return found


if __name__ == "__main__":
    print(json.dumps(main(*sys.argv[1:])))
