"""The CI regression check: the baseline commit and the checkout, both measured here, in the same job.

A committed baseline (``reports/baselines/ci-<backend>-<cpu>.json``) names a commit and the
framework versions it was recorded with.  Its figures are never compared with a run on
another machine: two hosts that report the same CPU model name can still differ in
microarchitecture and load, and a batch-1 round's ratio to the native reference moved
7.5% between two such hosts, more than twice the 3% threshold.  Instead the baseline commit is
checked out in a git worktree and run here, with the recorded keras / framework / numpy
versions (installed into a virtual environment of its own when this one has others, so
that a slower framework release is seen), then the checkout is run, and the two are
compared (:mod:`bench.check.compare`).

The unit of replication is the process: rounds within one run share its offset (a few
percent), which no within-run statistic sees.  So one comparison only picks suspects (a timed
benchmark 2% or more slower, :func:`bench.check.compare.suspected_slowdowns`); they are measured
again in a second pair, and judged by the regression rule on the rounds of both pairs pooled
(each normalized within its own run): one run's offset then weighs half.  A suspect still 2%
or more slower and not a regression gets a further pair, up to four (:data:`bench.check.rule.MAX_PAIRS`);
the rule tightens as pairs add up and needs them to agree (:data:`bench.check.rule.RULE_BY_PAIRS`).
The two runs of a pair start together and run side by side, one kernel thread each
(:func:`measure_pair`).
Every results file a check writes goes into the history store (:mod:`bench.history`), trigger ``regress``.
Accuracy (fixed seeds, deterministic ops) repeats exactly and is not re-measured.
The normalized comparison cancels what the models share with the native reference, the
framework's kernels; the absolute CPU time of two benchmarks is gated as well, at a threshold
calibrated per CPU model, and confirmed by one more pair of them (:mod:`bench.check.gate`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

from bench.check import stopping
from bench.core import results as results_io
from bench.core.kinds import pair_suffix
from bench.core.machine import cpu_slug
from bench.core.paths import BASELINES, PROJECT_ROOT

PROFILE = "ci"
#: the distributions whose versions a baseline run reproduces, per backend
PINNED = {"tensorflow": ("keras", "tensorflow", "numpy"), "jax": ("keras", "jax", "jaxlib", "numpy"),
          "torch": ("keras", "torch", "numpy")}  # fmt: skip
EXTRAS = {"tensorflow": "", "jax": "[jax]", "torch": "[torch]"}
#: the results files of a check's output folder: the full runs, and the gate's second pair (the suspects'
#: confirming pairs: :func:`pair_files`)
FIRST_PAIR = ("baseline-here.json", "results.json")
#: seconds of side-by-side pairs a check may add to reach the 5% target on a noisy host (bench.check.reach):
#: on the 2-core CI hosts one ci-profile pair of one kind's benchmarks takes about 2 minutes, so 15 minutes
#: buy the pairs that halve a first pair's noise, and .ci/run stays within its 90 minutes
DEFAULT_BUDGET_S = 900
GATE_PAIR = ("baseline-gate.json", "results-gate.json")


class RegressError(ValueError):
    """The check cannot be made (no baseline at all, a commit git cannot check out, an environment pip
    cannot build)."""


def baseline_path(backend: str, cpu: str | None = None) -> Path:
    return BASELINES / f"{PROFILE}-{backend}-{cpu_slug(cpu)}.json"


def baseline_record(backend: str) -> Path:
    """This CPU model's committed baseline, else any committed for the backend; RegressError if none."""
    mine = baseline_path(backend)
    if mine.is_file():
        return mine
    others = sorted(BASELINES.glob(f"{PROFILE}-{backend}-*.json"))
    if not others:
        raise RegressError(f"no {PROFILE} baseline for backend {backend} in {BASELINES}")
    return others[0]


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


def git(*args: str) -> str:
    completed = subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)
    if completed.returncode != 0:
        raise RegressError(f"git {' '.join(args)} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def installed_version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def version_pins(recorded: dict, backend: str) -> dict[str, str]:
    """The recorded versions of what a baseline run must reproduce (those recorded at all)."""
    versions = recorded.get("versions") or {}
    if backend == "jax" and versions.get("jax"):
        versions = {**versions, "jaxlib": versions.get("jaxlib") or versions["jax"]}
    return {name: versions[name] for name in PINNED.get(backend, ()) if versions.get(name)}


def versions_differ(pins: dict[str, str]) -> dict[str, tuple[str, str | None]]:
    """name -> (recorded, installed) for each pinned distribution this environment has at another version."""
    differ = {}
    for name, wanted in pins.items():
        have = installed_version(name)
        if have is None or have.split("+")[0] != wanted.split("+")[0]:
            differ[name] = (wanted, have)
    return differ


def _pip(python: Path, *args: str) -> None:
    """pip install ``args`` into ``python``'s environment, without byte-compiling every module (tox.ini)."""
    completed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", *args])
    if completed.returncode != 0:
        raise RegressError(f"pip could not install {' '.join(args)} (exit {completed.returncode})")


def baseline_environment(worktree: Path, pins: dict[str, str], backend: str, where: Path) -> str:
    """A virtual environment with the baseline commit's dependencies at the recorded versions; its python."""
    python, constraints = where / "bin" / "python", where / "constraints.txt"
    wanted = "".join(f"{name}=={version}\n" for name, version in pins.items())
    if python.is_file() and constraints.is_file() and constraints.read_text() == wanted:
        return str(python)  # built by an earlier check into the same out_dir
    # --clear empties the folder, constraints.txt with it; it comes back only once pip has made the
    # environment whole, so one cut off while built is never taken for it
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(where)], check=True)
    building = where / "constraints.building"
    building.write_text(wanted)
    _pip(python, "-c", str(building), f"{worktree}{EXTRAS.get(backend, '')}")
    building.replace(constraints)
    return str(python)


WORKTREE_PREFIX = "bench-baseline-"


def _owner(worktree: Path) -> Path:
    """The file beside a worktree (not in it: the baseline's run would see an uncommitted file) that holds
    the pid of the check that made it."""
    return worktree.with_name(worktree.name + ".owner")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_worktrees() -> list[Path]:
    """Remove the baseline worktrees that an earlier check, killed before it could, left behind (its
    process is gone), and prune git's records of any whose folder is gone; the ones removed."""
    git("worktree", "prune")
    removed = []
    for line in git("worktree", "list", "--porcelain").splitlines():
        path = Path(line.removeprefix("worktree ")) if line.startswith("worktree ") else None
        if path is None or not path.name.startswith(WORKTREE_PREFIX):
            continue
        try:
            pid = int(_owner(path).read_text())
        except (OSError, ValueError):
            pid = None  # no owner recorded: made before owners were, or cut off while made
        if pid is not None and _alive(pid):
            continue  # another check running now
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=PROJECT_ROOT,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(path, ignore_errors=True)
        _owner(path).unlink(missing_ok=True)
        removed.append(path)
    if removed:
        git("worktree", "prune")
        print(f"bench regress: removed {len(removed)} baseline worktree(s) left by an earlier, killed check",
              flush=True)  # fmt: skip
    return removed


class BaselineCheckout(NamedTuple):
    """The baseline's commit checked out here, and the python that runs it at the recorded versions."""

    worktree: Path
    python: str
    commit: str


@contextmanager
def worktree_of(commit: str):
    """A git worktree of ``commit`` for as long as the block runs (owned by this process, removed after)."""
    remove_stale_worktrees()
    worktree = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
    _owner(worktree).write_text(str(os.getpid()))  # whose it is, before git knows it: a check beside this one
    try:  # must never take it for a killed check's
        git("worktree", "add", "--detach", str(worktree), commit)
        yield worktree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=PROJECT_ROOT,
                       capture_output=True)  # fmt: skip
        shutil.rmtree(worktree, ignore_errors=True)
        _owner(worktree).unlink(missing_ok=True)
        subprocess.run(["git", "worktree", "prune"], cwd=PROJECT_ROOT, capture_output=True)


@contextmanager
def _baseline_checkout(record: Path, backend: str, out_dir: Path):
    """Yields the :class:`BaselineCheckout` of ``record``'s commit (a git worktree, removed afterwards)
    for every run of the baseline in one check."""
    recorded = results_io.load(record)["machine_info"]["suite"]
    commit = (recorded.get("commit") or "").removesuffix("-dirty")
    if not commit:
        raise RegressError(f"{record} records no commit to measure here")
    with worktree_of(commit) as worktree:
        pins = version_pins(recorded, backend)
        differ = versions_differ(pins)
        python = sys.executable
        if differ:
            changed = ", ".join(f"{n} {want} (here {have})" for n, (want, have) in differ.items())
            print(f"bench regress: the baseline was recorded with {changed}; installing those", flush=True)
            python = baseline_environment(worktree, pins, backend, out_dir / "baseline-env")
        yield BaselineCheckout(worktree, python, commit)


def here() -> BaselineCheckout:
    """The checkout itself, as the current side of a pair."""
    return BaselineCheckout(PROJECT_ROOT, sys.executable, "the checkout")


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
    with tempfile.TemporaryDirectory(prefix="bench-duet-") as folder, ThreadPoolExecutor(2) as pool:
        base_args, base_env = duet_run(extra_args, Path(folder), "baseline")
        args, env = duet_run(extra_args, Path(folder), "checkout")
        base_job = pool.submit(bench_run, checkout.worktree, baseline, base_args, checkout.python, base_env)
        current_job = pool.submit(bench_run, side.worktree, current, args, side.python, env)
        base_status, status = base_job.result(), current_job.result()
    if not baseline.is_file() or base_status not in (0, 1):
        raise RegressError(f"the baseline run of {commit} wrote no usable results (exit {base_status})")
    return status


def selection(benchmarks: list[str]) -> str:
    """A pytest -k expression that selects exactly these benchmarks (names like test_x[cnn-functional])."""
    return " or ".join(benchmarks)


def _compare_first_pair(first_pair: tuple[dict, dict], markdown_out: Path):
    """Print and write the first pair's verdicts; (timed benchmarks to measure again, other regressions,
    the first pair's timed verdicts)."""
    from bench.check.compare import (
        benchmark_kinds,
        compare,
        print_verdicts,
        suspected_slowdowns,
        untimed_regressions,
    )

    base, cur = first_pair
    verdicts = compare(base, cur)
    print_verdicts(verdicts, cur, markdown_out=str(markdown_out))
    timed = [v for v in verdicts if v.ci is not None]
    return suspected_slowdowns(base, cur), untimed_regressions(verdicts, benchmark_kinds(base)), timed


def _framework_gate(checkout: BaselineCheckout, out_dir: Path, first_pair: tuple[dict, dict]) -> list[str]:
    """The absolute-CPU-time gate (:mod:`bench.check.gate`) as a regression to list, where it fails the
    check: judged on the first pair, and where that makes a suspect, on one more pair of its two
    benchmarks, side by side."""
    from bench.check import gate as framework_gate

    load = results_io.load
    pairs = [first_pair]
    gate = framework_gate.judge(pairs)
    if gate.verdict == framework_gate.SUSPECT:
        print(f"bench regress: {gate.describe()}", flush=True)
        base_again, again = (out_dir / name for name in GATE_PAIR)
        measure_pair(checkout, base_again, again, ["-k", selection(list(framework_gate.INDEX_BENCHMARKS))])
        if not again.is_file():
            raise RegressError("the checkout's confirming run for the absolute-time gate wrote no results")
        pairs.append((load(base_again), load(again)))
        gate = framework_gate.judge(pairs)
    print(f"bench regress: {gate.describe()}", flush=True)
    with open(out_dir / "COMPARE.md", "a", encoding="utf-8") as table:
        table.write(f"\n{gate.describe()}\n")
    return [framework_gate.GATE_NAME] if gate.verdict == framework_gate.REGRESSION else []


def regress(out_dir: str | Path, extra_args: list[str] | None = None, db: str | None = None,
            budget_s: float | None = None) -> int:  # fmt: skip
    """Measure the baseline commit and the checkout here, compare, confirm timed regressions; exit status as
    :func:`bench.check.compare.compare_files`."""
    extra_args = extra_args or []
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    record = baseline_record(backend)
    store = open_history(db)  # a store that does not open stops the check before anything is measured
    started = time.time()
    try:
        with stopping.stopped_cleanly_on_signals("bench regress"):
            status = _regress(record, backend, out_dir, extra_args, DEFAULT_BUDGET_S if budget_s is None
                              else budget_s)  # fmt: skip
    except stopping.Interrupted as stop:
        kept = sorted(path.name for path in out_dir.glob("*.json"))
        print(f"bench regress: interrupted by {stop}; both runs stopped, the baseline worktree removed; "
              f"results kept in {out_dir}: {', '.join(kept) or 'none'}", file=sys.stderr)  # fmt: skip
        return 128 + stop.signum
    record_in_history(store, written_since(out_dir, started), "regress")
    return status


def open_history(db: str | None):
    """The history store (bench.history.store), opened before anything is measured."""
    from bench.history.store import open_store

    return open_store(db)


def written_since(folder: Path, started: float, pattern: str = "*.json") -> list[Path]:
    """The results files in ``folder`` (``pattern``) written since ``started``: this command's, not an
    earlier one's."""
    return sorted(p for p in folder.glob(pattern) if p.stat().st_mtime >= started - 1)


def record_in_history(store, files: list[Path], trigger: str) -> None:
    """Add ``files`` to the history; a file it cannot take is named, and what was measured stays on disk."""
    from bench.history.record import store_runs
    from bench.history.runs import read_run

    records = []
    for path in files:  # each file read once; one the history cannot take is named and left out
        try:
            records.append((path.name, *read_run(path, machine=None, trigger=trigger)))
        except results_io.ResultsError as error:
            print(f"bench {trigger}: not added to the history: {error}", file=sys.stderr)
    try:
        print(store_runs(store, records).describe(str(store.url)), flush=True)
    except ValueError as error:
        print(f"bench {trigger}: the runs were not added to the history ({error}); they are kept in "
              f"{', '.join(str(p) for p in files)}", file=sys.stderr)  # fmt: skip


def _regress(record: Path, backend: str, out_dir: Path, extra_args: list[str], budget_s: float) -> int:
    from bench.check.compare import REGRESSION

    baseline, current = pair_files(out_dir, 1)
    with _baseline_checkout(record, backend, out_dir) as checkout:
        status = measure_pair(checkout, baseline, current, extra_args)
        if not current.is_file():
            return status
        print(f"bench regress: {current.name} against {baseline.name} (commit of {record.name}, run here)",
              flush=True)  # fmt: skip
        first_pair = (results_io.load(baseline), results_io.load(current))
        suspects, others, timed = _compare_first_pair(first_pair, out_dir / "COMPARE.md")
        pooled = _reach(checkout, out_dir, first_pair, timed, budget_s)
        suspects = [name for name in suspects if name not in pooled]  # judged on their pooled pairs already
        others += [name for name, verdict in pooled.items() if verdict == REGRESSION]
        others += _framework_gate(checkout, out_dir, first_pair)
        verdict = (
            _confirm(checkout, out_dir, first_pair, suspects, others) if suspects else (1 if others else 0)
        )
    return verdict if status == 0 else max(verdict, 1)


def _reach(checkout: BaselineCheckout, out_dir: Path, first_pair: tuple[dict, dict], timed: list,
           budget_s: float) -> dict[str, str]:  # fmt: skip
    """Pairs added for the kinds too noisy for the target on the first pair (:mod:`bench.check.reach`);
    {benchmark: verdict} of the benchmarks judged on those pairs pooled (their regressions fail the check)."""
    from bench.check.compare import benchmark_kinds, markdown
    from bench.check.reach import reach_target
    from bench.check.resolution import TARGET, resolutions

    kinds = {name: kind for name, kind in benchmark_kinds(first_pair[1]).items()
             if name in {v.benchmark for v in timed}}  # fmt: skip
    first = resolutions(timed, kinds, first_pair[1]["machine_info"]["suite"].get("cpu_model"))
    noisy = [r for r in first if r.smallest > TARGET]
    if noisy:
        print(f"bench regress: the first pair resolves only {', '.join(r.words() for r in noisy)}; adding "
              f"side-by-side pairs of those kinds until {TARGET:.0%} or {budget_s:.0f} s", flush=True)  # fmt: skip

    def measure(number: int, names: list[str]) -> tuple[dict, dict]:
        baseline_again, again = pair_files(out_dir, number, "resolution")
        measure_pair(checkout, baseline_again, again, ["-k", selection(names)])
        if not again.is_file():
            raise RegressError(f"pair {number} of the checkout wrote no results")
        return results_io.load(baseline_again), results_io.load(again)

    reached = reach_target(first_pair, first, kinds, measure, budget_s)
    line = f"bench regress: {reached.line()}"
    print(line, flush=True)
    with open(out_dir / "COMPARE.md", "a", encoding="utf-8") as table:
        table.write(f"\n{line}\n")
    if reached.verdicts:
        text = markdown(list(reached.verdicts.values()))
        print(text, flush=True)
        (out_dir / "COMPARE-resolution.md").write_text(text + "\n\n" + line + "\n", encoding="utf-8")
    return {name: v.verdict for name, v in reached.verdicts.items()}


def pair_files(out_dir: Path, pair: int, purpose: str = "") -> tuple[Path, Path]:
    """The baseline's and the checkout's results files of pair ``pair``: 1, the full runs; 2, 3, ...,
    the confirming runs of the suspects."""
    if pair == 1:
        return out_dir / FIRST_PAIR[0], out_dir / FIRST_PAIR[1]
    suffix = f"-{purpose}-{pair}" if purpose else pair_suffix(pair)
    return out_dir / f"baseline{suffix}.json", out_dir / f"results{suffix}.json"


def _confirm(
    checkout: BaselineCheckout,
    out_dir: Path,
    first_pair: tuple[dict, dict],
    timed: list[str],
    other: list[str],
) -> int:
    """Measure the suspected timed benchmarks again, pair after pair, and judge each on all its pairs pooled.

    A suspect that is neither a regression nor back under the screen threshold after a pair is
    measured once more, up to :data:`bench.check.rule.MAX_PAIRS` pairs (a sequential test): a
    slowdown near the threshold gets the rounds it needs, a clear answer costs no more.
    """
    from bench.check.compare import REGRESSION, confirm_suspects, markdown
    from bench.check.rule import SCREEN_THRESHOLD

    print(f"bench regress: {len(timed)} timed benchmark(s) {SCREEN_THRESHOLD:.0%} or more slower in this "
          "pair; measuring them again, side by side, to judge them pooled", flush=True)  # fmt: skip
    load = results_io.load

    def measure(number: int, names: list[str]) -> tuple[dict, dict]:
        if number > 2:
            print(f"bench regress: still {SCREEN_THRESHOLD:.0%} or more slower over {number - 1} pairs and "
                  f"not a regression: {', '.join(names)}; measuring again", flush=True)  # fmt: skip
        baseline_again, again = pair_files(out_dir, number)
        measure_pair(checkout, baseline_again, again, ["-k", selection(names)])
        if not again.is_file():
            raise RegressError(f"confirming run {number} of the checkout wrote no results")
        return load(baseline_again), load(again)

    verdicts = confirm_suspects(first_pair, timed, measure)
    table = markdown(verdicts)
    confirmed = [v.benchmark for v in verdicts if v.verdict == REGRESSION]
    cleared = [name for name in timed if name not in confirmed]
    standing = confirmed + other
    summary = (
        (f"not a regression over the pairs of runs pooled: {', '.join(cleared)}\n" if cleared else "")
        + (f"{len(standing)} regression(s) after confirmation: {', '.join(standing)}" if standing
           else "no regression after confirmation")
    )  # fmt: skip
    print(table + "\n\n" + summary, flush=True)
    (out_dir / "COMPARE-pooled.md").write_text(table + "\n\n" + summary + "\n", encoding="utf-8")
    return 1 if standing else 0
