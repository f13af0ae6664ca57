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
calibrated per CPU model, and confirmed by one more pair of them (:mod:`bench.check.framework_gate`).
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from bench.check import stopping
from bench.check.checkouts import (
    BaselineCheckout,
    CheckError,
    ModelsRepository,
    baseline_environment,
    here,
    version_pins,
    versions_differ,
    worktree_of,
)
from bench.check.sidebyside import GATE_PAIR, PROFILE, measure_pair, pair_files, selection, written_since
from bench.core import results as results_io
from bench.core.machine import cpu_slug
from bench.core.paths import BASELINES
from bench.history.record import record_files
from bench.history.store import open_store

#: seconds of side-by-side pairs a check may add to reach the 5% target on a noisy host (bench.check.reach):
#: on the 2-core CI hosts one ci-profile pair of one kind's benchmarks takes about 2 minutes, so 15 minutes
#: buy the pairs that halve a first pair's noise, and .ci/run stays within its 90 minutes
DEFAULT_BUDGET_S = 900


def baseline_path(backend: str, cpu: str | None = None) -> Path:
    return BASELINES / f"{PROFILE}-{backend}-{cpu_slug(cpu)}.json"


def baseline_record(backend: str) -> Path:
    """This CPU model's committed baseline, else any committed for the backend; CheckError if none."""
    mine = baseline_path(backend)
    if mine.is_file():
        return mine
    others = sorted(BASELINES.glob(f"{PROFILE}-{backend}-*.json"))
    if not others:
        raise CheckError(f"no {PROFILE} baseline for backend {backend} in {BASELINES}")
    return others[0]


@contextmanager
def _baseline_checkout(record: Path, backend: str, out_dir: Path):
    """Yields the :class:`BaselineCheckout` of ``record``'s commit (a git worktree, removed afterwards)
    for every run of the baseline in one check."""
    recorded = results_io.load(record)["machine_info"]["suite"]
    commit = (recorded.get("commit") or "").removesuffix("-dirty")
    if not commit:
        raise CheckError(f"{record} records no commit to measure here")
    with worktree_of(commit) as worktree:
        pins = version_pins(recorded, backend)
        differ = versions_differ(pins)
        python = sys.executable
        if differ:
            changed = ", ".join(f"{n} {want} (here {have})" for n, (want, have) in differ.items())
            print(f"bench regress: the baseline was recorded with {changed}; installing those", flush=True)
            python = baseline_environment(worktree, pins, backend, out_dir / "baseline-env")
        yield BaselineCheckout(worktree, python, commit)


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


def _framework_gate(checkout: BaselineCheckout, out_dir: Path, first_pair: tuple[dict, dict],
                    side: BaselineCheckout) -> list[str]:  # fmt: skip
    """The absolute-CPU-time gate (:mod:`bench.check.framework_gate`) as a regression to list, where it fails the
    check: judged on the first pair, and where that makes a suspect, on one more pair of its two
    benchmarks, side by side."""
    from bench.check import framework_gate

    load = results_io.load
    pairs = [first_pair]
    gate = framework_gate.judge(pairs)
    if gate.verdict == framework_gate.SUSPECT:
        print(f"bench regress: {gate.describe()}", flush=True)
        base_again, again = (out_dir / name for name in GATE_PAIR)
        measure_pair(checkout, base_again, again, ["-k", selection(list(framework_gate.INDEX_BENCHMARKS))], side)
        if not again.is_file():
            raise CheckError("the checkout's confirming run for the absolute-time gate wrote no results")
        pairs.append((load(base_again), load(again)))
        gate = framework_gate.judge(pairs)
    print(f"bench regress: {gate.describe()}", flush=True)
    with open(out_dir / "COMPARE.md", "a", encoding="utf-8") as table:
        table.write(f"\n{gate.describe()}\n")
    return [framework_gate.GATE_NAME] if gate.verdict == framework_gate.REGRESSION else []


def regress(out_dir: str | Path, extra_args: list[str] | None = None, db: str | None = None,
            budget_s: float | None = None, models: list[str] | None = None,
            baseline: str | None = None) -> int:  # fmt: skip
    """Measure the baseline commit and the checkout here, compare, confirm timed regressions; exit status as
    :func:`bench.check.compare.compare_files`.

    With ``models`` (users' models files), the baseline is commit ``baseline`` (default: the previous one)
    of the git repository that holds them, and the checkout is that repository's working tree: both measured
    by this installed suite, so only the user's code differs."""
    extra_args = extra_args or []
    budget_s = DEFAULT_BUDGET_S if budget_s is None else budget_s
    repository = ModelsRepository.of(models) if models else None
    if baseline and repository is None:
        raise CheckError("--baseline names a commit of a models file's repository: give --models too")
    base_commit = repository.resolve(baseline or "HEAD~1") if repository else None
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    record = baseline_record(backend) if repository is None else None
    store = open_store(db)  # a store that does not open stops the check before anything is measured
    started = time.time()
    try:
        with stopping.stopped_cleanly_on_signals("bench regress"):
            if repository is None:
                with _baseline_checkout(record, backend, out_dir) as checkout:
                    print(f"bench regress: the baseline is the commit of {record.name}", flush=True)
                    status = _regress(checkout, here(), out_dir, extra_args, budget_s, gate=True)
            else:
                with worktree_of(base_commit, repository.root) as tree:
                    print(f"bench regress: {', '.join(repository.files)} at {base_commit[:12]} against the "
                          f"working tree of {repository.root}", flush=True)  # fmt: skip
                    status = _regress(repository.side(tree, base_commit), repository.current(), out_dir,
                                      extra_args, budget_s, gate=False)  # fmt: skip
    except stopping.Interrupted as stop:
        kept = sorted(path.name for path in out_dir.glob("*.json"))
        print(f"bench regress: interrupted by {stop}; both runs stopped, the baseline worktree removed; "
              f"results kept in {out_dir}: {', '.join(kept) or 'none'}", file=sys.stderr)  # fmt: skip
        return 128 + stop.signum
    record_files(store, written_since(out_dir, started), "regress")
    return status


def _regress(checkout: BaselineCheckout, side: BaselineCheckout, out_dir: Path, extra_args: list[str],
             budget_s: float, *, gate: bool) -> int:  # fmt: skip
    """The check on one baseline side and one current side: the first pair, pairs for resolution, the
    absolute-time gate (``gate``: the suite's own models only), confirming pairs."""
    from bench.check.compare import REGRESSION

    baseline, current = pair_files(out_dir, 1)
    status = measure_pair(checkout, baseline, current, extra_args, side)
    if not current.is_file():
        return status
    print(f"bench regress: {current.name} against {baseline.name} (run here, side by side)", flush=True)
    first_pair = (results_io.load(baseline), results_io.load(current))
    suspects, others, timed = _compare_first_pair(first_pair, out_dir / "COMPARE.md")
    pooled = _reach(checkout, out_dir, first_pair, timed, budget_s, side)
    suspects = [name for name in suspects if name not in pooled]  # judged on their pooled pairs already
    others += [name for name, verdict in pooled.items() if verdict == REGRESSION]
    others += _framework_gate(checkout, out_dir, first_pair, side) if gate else []
    verdict = (
        _confirm(checkout, out_dir, first_pair, suspects, others, side) if suspects else (1 if others else 0)
    )
    return verdict if status == 0 else max(verdict, 1)


def _reach(checkout: BaselineCheckout, out_dir: Path, first_pair: tuple[dict, dict], timed: list,
           budget_s: float, side: BaselineCheckout) -> dict[str, str]:  # fmt: skip
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
        measure_pair(checkout, baseline_again, again, ["-k", selection(names)], side)
        if not again.is_file():
            raise CheckError(f"pair {number} of the checkout wrote no results")
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


def _confirm(
    checkout: BaselineCheckout,
    out_dir: Path,
    first_pair: tuple[dict, dict],
    timed: list[str],
    other: list[str],
    side: BaselineCheckout,
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
        measure_pair(checkout, baseline_again, again, ["-k", selection(names)], side)
        if not again.is_file():
            raise CheckError(f"confirming run {number} of the checkout wrote no results")
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
