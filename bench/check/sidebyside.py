"""Two commits measured side by side: the baseline's run and the checkout's, started together, one kernel thread
each, meeting at every benchmark (bench/check/duet/bench_duet.py); the results files of a check's pairs.

Used by ``bench regress``, ``bench bisect`` and the evidence campaigns alike.
"""

from __future__ import annotations

import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.check import stopping
from bench.check.checkouts import BaselineCheckout, CheckError, here
from bench.core.kinds import pair_suffix
from bench.core.paths import PROJECT_ROOT

PROFILE = "ci"
#: the results files of a check's output folder: the full runs, and the gate's second pair (the suspects'
#: confirming pairs: :func:`pair_files`)
FIRST_PAIR = ("baseline-here.json", "results.json")
GATE_PAIR = ("baseline-gate.json", "results-gate.json")


def bench_run(
    root: Path, out: Path, extra_args: list[str], python: str = sys.executable, env: dict | None = None
) -> int:
    """``bench run`` of the ci profile in ``root``, in a session of its own (the check stops it on a signal)."""
    command = [python, "-m", "bench", "run", "--profile", PROFILE, "--out", str(out), *extra_args]
    return stopping.run(command, cwd=root, env=env).returncode


DUET_PLUGIN = PROJECT_ROOT / "bench" / "check" / "duet"  # bench_duet.py, loadable by any commit's bench run


def duet_run(extra_args: list[str], folder: Path, side: str) -> tuple[list[str], dict]:
    """``bench run`` arguments and environment that make a run meet its pair at every benchmark
    (bench/check/duet/bench_duet.py)."""
    from bench.check.duet import bench_duet

    path = os.pathsep.join(filter(None, [str(DUET_PLUGIN), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, bench_duet.DIR_ENV: str(folder), bench_duet.SIDE_ENV: side}
    return [*extra_args, *([] if "--" in extra_args else ["--"]), "-p", "bench_duet"], env


def measure_pair(checkout: BaselineCheckout, baseline: Path, current: Path, extra_args: list[str],
                 current_side: BaselineCheckout | None = None) -> int:  # fmt: skip
    """Run the baseline commit and the checkout (or ``current_side``) side by side, started together; the
    current side's exit status.

    Both runs share the host's slow spells and its other load for their whole length (duet
    benchmarking, Bulej et al., ICPE 2020), and each holds its kernels to one thread, so the two
    fit the machine's two cores.  They start every benchmark together (bench/check/duet/bench_duet.py),
    so each meets the same phase of the other.  The evidence (bench.evidence.campaigns) is gathered side by
    side with the same code on both sides.
    """
    commit = checkout.commit[:12]
    side = current_side or here()
    shown = "the checkout" if side.worktree == PROJECT_ROOT else side.commit[:12]
    print(f"bench regress: measuring the baseline {commit} → {baseline.name} and {shown} → "
          f"{current.name}, side by side", flush=True)  # fmt: skip
    from bench.check.duet import bench_duet

    with (
        tempfile.TemporaryDirectory(prefix="bench-duet-") as folder,
        stopping.also_on_stop(lambda: bench_duet.stop(Path(folder))),
        ThreadPoolExecutor(2) as pool,
    ):
        base_args, base_env = duet_run(extra_args, Path(folder), "baseline")
        args, env = duet_run(extra_args, Path(folder), "checkout")
        base_job = pool.submit(bench_run, checkout.worktree, baseline, [*checkout.args, *base_args],
                               checkout.python, base_env)  # fmt: skip
        current_job = pool.submit(bench_run, side.worktree, current, [*side.args, *args], side.python, env)
        base_status, status = base_job.result(), current_job.result()
    if not baseline.is_file() or base_status not in (0, 1):
        raise CheckError(f"the baseline run of {commit} wrote no usable results (exit {base_status})")
    return status


def selection(benchmarks: list[str]) -> str:
    """A pytest -k expression that selects exactly these benchmarks (names like test_x[cnn-functional])."""
    return " or ".join(benchmarks)


def pair_files(out_dir: Path, pair: int, purpose: str = "") -> tuple[Path, Path]:
    """The baseline's and the checkout's results files of pair ``pair``: 1, the full runs; 2, 3, ...,
    the confirming runs of the suspects."""
    if pair == 1:
        return out_dir / FIRST_PAIR[0], out_dir / FIRST_PAIR[1]
    suffix = f"-{purpose}-{pair}" if purpose else pair_suffix(pair)
    return out_dir / f"baseline{suffix}.json", out_dir / f"results{suffix}.json"


def written_since(folder: Path, started: float, pattern: str = "*.json") -> list[Path]:
    """The results files in ``folder`` (``pattern``) written since ``started``: this command's, not an
    earlier one's."""
    return sorted(p for p in folder.glob(pattern) if p.stat().st_mtime >= started - 1)
