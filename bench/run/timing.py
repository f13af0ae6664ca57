"""How a timed round is measured: single-threaded kernels, process CPU time, wall time beside it.

On a shared 2-core machine the wall time of a round moves with everything else that
runs there; the CPU time this process spends does not wait in the run queue, and
with every framework held to one kernel thread it is not inflated by idle threads
spinning either.  The host's own slow spells still move it, which is what the
interleaved reference (:mod:`bench.run.reference`) is for.
"""

from __future__ import annotations

import os
import time

# Environment variables read when the frameworks start: set them before importing one.
_THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)
_XLA_SINGLE_THREAD = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def thread_environment(threads: int | None) -> dict[str, str]:
    """Environment variables that hold TensorFlow, JAX, PyTorch and BLAS to ``threads`` kernel threads."""
    if not threads:
        return {}
    env = {name: str(threads) for name in _THREAD_VARIABLES}
    if threads == 1:
        flags = os.environ.get("XLA_FLAGS", "")
        env["XLA_FLAGS"] = flags if _XLA_SINGLE_THREAD in flags else f"{flags} {_XLA_SINGLE_THREAD}".strip()
    return env


def limit_threads(threads: int | None) -> None:
    """Apply :func:`thread_environment` to this process; call before a framework is imported."""
    os.environ.update(thread_environment(threads))


def apply_framework_threads(threads: int | None, backend: str) -> None:
    """The framework calls that back up the environment variables once the backend is imported."""
    if not threads:
        return
    if backend == "torch":
        import torch

        torch.set_num_threads(threads)


class RoundClock:
    """Wraps a step so that each call's process CPU time and wall time are recorded."""

    def __init__(self, step):
        self.step = step
        self.cpu_s: list[float] = []
        self.wall_s: list[float] = []

    def __call__(self):
        cpu, wall = time.process_time(), time.perf_counter()
        result = self.step()
        self.wall_s.append(time.perf_counter() - wall)
        self.cpu_s.append(time.process_time() - cpu)
        return result

    def take(self, count: int) -> tuple[list[float], list[float]]:
        """(CPU, wall) seconds of the last ``count`` calls; the record is cleared."""
        cpu, wall = self.cpu_s[-count:] if count else [], self.wall_s[-count:] if count else []
        self.cpu_s, self.wall_s = [], []
        return cpu, wall
