"""Command line: ``python -m bench {run,report,compare,data}``.

Every expected failure (bad data, a foreign or truncated results file, a wrong
argument) ends in one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXIT_BAD_INPUT = 2


class UsageError(ValueError):
    """A command-line problem the user can fix."""


INTERRUPT_GRACE_S = 60  # after a signal, how long the child may take to write what it finished


def _run(args: argparse.Namespace) -> int:
    from bench.profiles import get_profile

    started = time.time()
    profile = get_profile(args.profile)  # a wrong name or a bad BENCH_* switch stops here, with its message
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    print(
        f"bench run: profile {args.profile}, backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}, "
        f"writing {out}",
        flush=True,
    )
    from bench.topup import top_up, top_ups_of

    for stale in [out, *top_ups_of(out)]:  # results left from an earlier run must not pass for this one's
        stale.unlink(missing_ok=True)
    returncode, signum = _measure(args, profile, out, args.k, {})
    if signum is not None:
        return _interrupted(out, signum)
    if not out.is_file():
        raise UsageError(f"the benchmark run wrote no results (pytest exit status {returncode})")
    if returncode != 0:
        print(
            f"error: some benchmarks failed (pytest exit status {returncode}); "
            f"the ones that ran are in {out}",
            file=sys.stderr,
        )
        return 1
    if profile.precision_target and profile.time_budget_s and not args.k:

        def measure(path: Path, selection: str, env: dict):
            return _measure(args, profile, path, selection, env)

        interrupted = top_up(out, profile.precision_target, started + profile.time_budget_s, measure)
        if interrupted is not None:
            print(f"error: a top-up was interrupted; the main run's results are in {out}", file=sys.stderr)
            return interrupted
    return 0


def _measure(args: argparse.Namespace, profile, out: Path, selection: str | None, extra_env: dict):
    """Run the benchmarks (pytest, supervised) into ``out``; (exit status, interrupting signal or None)."""
    from bench.timing import thread_environment

    command = [
        sys.executable,
        "-m",
        "pytest",
        str(PROJECT_ROOT / "bench" / "benchmarks"),
        "-p",
        "no:cacheprovider",
        "-p",
        "no:xdist",  # timed rounds run one at a time: with xdist loaded, pytest-benchmark turns itself off
        "-o",
        "addopts=",
        "-v",
        "--rootdir",
        str(PROJECT_ROOT),
        f"--benchmark-json={out}",
        "--benchmark-save-data",
        "--benchmark-columns=median,iqr,rounds",
        "--benchmark-sort=name",
    ]
    if selection:
        command += ["-k", selection]
    command += args.pytest_args
    env = {
        # not a worker of an outer pytest-xdist run (the tests): pytest-benchmark would turn itself off
        **{name: value for name, value in os.environ.items() if not name.startswith("PYTEST_XDIST_")},
        **thread_environment(profile.threads),
        "BENCH_PROFILE": args.profile,
        "TF_CPP_MIN_LOG_LEVEL": "3",
        **extra_env,
    }
    return _supervise(command, env)


def _supervise(command: list[str], env: dict) -> tuple[int, int | None]:
    """Run pytest in its own process group; on SIGTERM or SIGINT, interrupt it and wait for its results.

    pytest turns SIGINT into KeyboardInterrupt and pytest-benchmark still writes the
    benchmarks that finished; a child (or a probe of it) that outlives the grace period is killed.
    Returns (exit status, the signal received or None).
    """
    child = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, start_new_session=True, preexec_fn=_default_sigint
    )
    received: list[tuple[int, float]] = []

    def interrupt(signum, _frame):
        if not received:
            received.append((signum, time.monotonic()))
            print(f"\nbench run: {signal.Signals(signum).name} received, stopping the benchmarks", flush=True)
            _signal_group(child.pid, signal.SIGINT)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                returncode = child.wait(timeout=1)
                break
            except subprocess.TimeoutExpired:
                if received and time.monotonic() - received[0][1] > INTERRUPT_GRACE_S:
                    _signal_group(child.pid, signal.SIGKILL)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    _signal_group(child.pid, signal.SIGKILL)  # nothing of the run outlives it (probes included)
    return returncode, (received[0][0] if received else None)


def _default_sigint() -> None:
    """In the child before exec: a shell that starts jobs in the background ignores SIGINT for them, and
    Python then never turns SIGINT into KeyboardInterrupt; pytest must get the default back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except (ProcessLookupError, PermissionError):
        pass


def _interrupted(out: Path, signum: int) -> int:
    """Mark the results of an interrupted run as partial; exit status 128 + the signal number."""
    import json

    name = signal.Signals(signum).name
    status = 128 + signum
    try:
        results = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        print(f"error: interrupted by {name} before any results were written to {out}", file=sys.stderr)
        return status
    finished = len(results.get("benchmarks", []))
    suite = results.setdefault("machine_info", {}).setdefault("suite", {})
    suite["interrupted"] = f"{name} after {finished} finished benchmark(s)"
    from bench.results import rewrite

    rewrite(out, results)
    print(f"error: interrupted by {name}; the {finished} finished benchmark(s) are in {out}", file=sys.stderr)
    return status


def _report(args: argparse.Namespace) -> int:
    from bench import results
    from bench.topup import with_top_ups

    paths = with_top_ups(args.results)  # each run's top-ups, pooled with it
    for path in paths:  # reject unusable files before the framework is imported and logs
        results.load(path)
    from reports.build import build_report

    report = build_report(paths, args.out)
    print(f"wrote {report}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from bench.compare import compare_files

    return compare_files(args.baseline, args.current, markdown_out=args.markdown)


def _regress(args: argparse.Namespace) -> int:
    from bench.regress import regress

    passed_on = (["-k", args.k] if args.k else []) + (["--", *args.pytest_args] if args.pytest_args else [])
    return regress(args.out, passed_on)


def _data(args: argparse.Namespace) -> int:
    from bench.datasets import load

    (x_train, y_train), (x_test, y_test) = load(args.name, path=args.path)
    print(
        f"{args.name}: train {len(x_train)} test {len(x_test)} images {x_train.shape[1:]} "
        f"labels {sorted(set(y_train.tolist()))}"
    )
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    commands = top.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the benchmarks and write pytest-benchmark JSON")
    run.add_argument("--profile", default=os.environ.get("BENCH_PROFILE", "quick"))
    run.add_argument("--out", required=True, help="results file to write")
    run.add_argument("-k", help="select benchmarks as pytest -k does, e.g. 'resnet and train'")
    run.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="build REPORT.md and plots from results files")
    report.add_argument("results", nargs="+", help="one or more results files (e.g. one per backend)")
    report.add_argument("--out", required=True, help="directory for REPORT.md and the PNG plots")
    report.set_defaults(handler=_report)

    compare = commands.add_parser("compare", help="regression check of CURRENT against BASELINE")
    compare.add_argument("baseline")
    compare.add_argument("current")
    compare.add_argument("--markdown", help="also write the Markdown diff table to this file")
    compare.set_defaults(handler=_compare)

    regress = commands.add_parser(
        "regress", help="the CI check: the baseline commit and the checkout, both run here, compared"
    )
    regress.add_argument("--out", required=True, help="directory for results.json and COMPARE.md")
    regress.add_argument("-k", help="select benchmarks as pytest -k does")
    regress.add_argument("pytest_args", nargs="*", help="after --: more arguments for bench run")
    regress.set_defaults(handler=_regress)

    data = commands.add_parser("data", help="load a dataset and describe it (checks the files)")
    data.add_argument("name")
    data.add_argument("--path")
    data.set_defaults(handler=_data)
    return top


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except ValueError as error:  # DatasetError, ResultsError, UsageError, RegressError, registry errors
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
