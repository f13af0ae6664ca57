"""Command line: ``python -m bench {run,report,compare,regress,history,bisect,data}``.

Every expected failure (bad data, a foreign or truncated results file, a wrong
argument) ends in one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

EXIT_BAD_INPUT = 2
MODELS_HELP = ("models files (a .py path or a module name) defining sequential(), functional(), subclassing() "
               "or functional_subclass(), in place of the built-in cnn and resnet (docs/own-models.md)")


class UsageError(ValueError):
    """A command-line problem the user can fix."""


def _check_writable(out: Path) -> None:
    """UsageError unless the folder of ``out`` exists or can be made and takes a file, before anything runs."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        probe = out.with_name(f".{out.name}.{os.getpid()}.probe")
        probe.write_bytes(b"x" * 65536)  # room for more than a name: a full disk fails here
        probe.unlink()
    except OSError as error:
        problem = "not a folder" if out.parent.exists() and not out.parent.is_dir() else error.strerror or error
        raise UsageError(f"cannot write results to {out.parent}: {problem}") from None


def _seconds(text: str) -> float:
    """A --budget: non-negative seconds."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    return value


def use_models(specs: list[str] | None) -> None:
    """Hand the models files to this process and every one it starts (``$BENCH_MODELS``): paths made
    absolute, and the working folder importable for a file given as a module name."""
    if not specs:
        return
    from implementations import MODELS_ENV

    resolved = []
    for spec in specs:
        if spec.endswith(".py") or os.sep in spec or "/" in spec:
            path = Path(spec).expanduser()
            if not path.is_file():
                raise UsageError(f"models file {spec} does not exist")
            resolved.append(str(path.resolve()))
        elif spec.replace(".", "").replace("_", "").isalnum():
            resolved.append(spec)
            os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [os.getcwd(), os.environ.get("PYTHONPATH")]))
            sys.path.insert(0, os.getcwd())
        else:
            raise UsageError(f"models file {spec} does not exist (give a .py path or a module name)")
    os.environ[MODELS_ENV] = os.pathsep.join(resolved)


def _parity() -> None:
    """Parity of every models file's APIs, before anything is timed (bench.run.parity)."""
    import implementations
    from bench.run import parity

    for arch in implementations.ARCHS:
        for line in parity.check(arch):
            print(line, flush=True)


def _run(args: argparse.Namespace) -> int:
    from bench.core.profiles import get_profile
    from bench.run.supervise import fallback_path, interrupted, measure, pending_signal

    started = time.time()
    profile = get_profile(args.profile)  # a wrong name or a bad BENCH_* switch stops here, with its message
    out = Path(args.out).resolve()
    _check_writable(out)
    if args.models:
        use_models(args.models)
        _parity()
    print(
        f"bench run: profile {args.profile}, backend {os.environ.get('KERAS_BACKEND', 'tensorflow')}, "
        f"writing {out}",
        flush=True,
    )
    from bench.run.topup import top_up, top_ups_of

    for stale in [out, *top_ups_of(out)]:  # results left from an earlier run must not pass for this one's
        stale.unlink(missing_ok=True)
    returncode, signum = measure(args.profile, profile, out, args.k, args.pytest_args, {})
    signum = signum or pending_signal()
    if signum is not None:
        return interrupted(out, signum)
    if not out.is_file():
        kept = fallback_path(out)
        if kept.is_file():
            raise UsageError(f"no room for the results in {out.parent}; what was measured is kept in {kept}")
        raise UsageError(
            f"the benchmark run wrote no results (pytest exit status {returncode}); "
            f"is there room left in {out.parent}?"
        )
    if returncode != 0:
        print(
            f"error: some benchmarks failed (pytest exit status {returncode}); "
            f"the ones that ran are in {out}",
            file=sys.stderr,
        )
        return 1
    if profile.precision_target and profile.time_budget_s and not args.k:

        def measure_top_up(path: Path, selection: str, env: dict):
            return measure(args.profile, profile, path, selection, args.pytest_args, env)

        stopped = top_up(out, profile.precision_target, started + profile.time_budget_s, measure_top_up)
        if stopped is not None:
            print(f"error: a top-up was interrupted; the main run's results are in {out}", file=sys.stderr)
            return stopped
    if pending_signal() is not None:  # after the last benchmark: everything measured is in the file
        return interrupted(out, pending_signal())
    return 0


def _report(args: argparse.Namespace) -> int:
    from bench.core import results
    from bench.run.topup import with_top_ups

    paths = with_top_ups(args.results)  # each run's top-ups, pooled with it
    for path in paths:  # reject unusable files before the framework is imported and logs
        results.load(path)
    from bench.report import findings
    from bench.report.build import build_report

    for target in args.findings or []:  # a file without its markers is refused before anything is written
        try:
            marked = findings.has_blocks(Path(target))
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"--findings {target}: {error}") from None
        if not marked:
            raise UsageError(f"--findings {target} holds no generated block: it needs the lines {findings.START} "
                             f"and {findings.END}")
    try:
        report = build_report(paths, args.out, [Path(f) for f in args.findings or []])
    except (KeyError, TypeError, IndexError, AttributeError) as error:  # a figure the door let by that a row needs
        raise UsageError(f"the results cannot be reported: {type(error).__name__} {error}") from None
    print(f"wrote {report}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from bench.check.compare import compare_files

    return compare_files(args.baseline, args.current, markdown_out=args.markdown)


def _regress(args: argparse.Namespace) -> int:
    from bench.check.regress import regress

    passed_on = (["-k", args.k] if args.k else []) + (["--", *args.pytest_args] if args.pytest_args else [])
    return regress(args.out, passed_on, db=args.db, budget_s=args.budget, models=args.models, baseline=args.baseline)


def _bisect(args: argparse.Namespace) -> int:
    from bench.check.bisect import bisect

    return bisect(args.good, args.bad, args.out, args.k, db=args.db, models=args.models)


def _data(args: argparse.Namespace) -> int:
    from bench.run.datasets import load

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
    run.add_argument("--models", nargs="+", metavar="FILE", help=MODELS_HELP)
    run.add_argument("pytest_args", nargs="*", help="after --: more pytest arguments")
    run.set_defaults(handler=_run)

    report = commands.add_parser("report", help="build REPORT.md and plots from results files")
    report.add_argument("results", nargs="+", help="one or more results files (e.g. one per backend)")
    report.add_argument("--out", required=True, help="directory for REPORT.md and the PNG plots")
    report.add_argument("--findings", nargs="+", metavar="FILE",
                        help="also write the findings bullets between the markers of each FILE (README.md)")
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
    regress.add_argument("--db", help="history store its runs go into (default $BENCH_HISTORY_DB, else "
                         "bench-history.sqlite)")
    regress.add_argument("--budget", type=_seconds, help="seconds of further side-by-side pairs a noisy host may "
                         "take to reach the 5%% target (default 900)")
    regress.add_argument("--models", nargs="+", metavar="FILE", help="models files in a git repository of yours: "
                         "its --baseline commit and its working tree are measured side by side")
    regress.add_argument("--baseline", metavar="REF", help="with --models: the commit to compare with (default "
                         "the previous one, HEAD~1)")
    regress.add_argument("pytest_args", nargs="*", help="after --: more arguments for bench run")
    regress.set_defaults(handler=_regress)

    from bench.history.commands import add_parser as add_history

    add_history(commands)

    culprit = commands.add_parser("bisect", help="the first commit between GOOD and BAD that made a benchmark slower")
    culprit.add_argument("good", help="a commit without the slowdown")
    culprit.add_argument("bad", help="a later commit with it")
    culprit.add_argument("-k", help="select benchmarks as pytest -k does, e.g. 'cnn and train_throughput'")
    culprit.add_argument("--out", default="reports/latest-bisect", help="folder for each probe's results")
    culprit.add_argument("--db", help="history store the measurements go into (as bench history)")
    culprit.add_argument("--models", nargs="+", metavar="FILE", help="models files in a git repository of yours: "
                         "GOOD and BAD are its commits")
    culprit.set_defaults(handler=_bisect)

    data = commands.add_parser("data", help="load a dataset and describe it (checks the files)")
    data.add_argument("name")
    data.add_argument("--path")
    data.set_defaults(handler=_data)
    return top


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    args = parser().parse_args(argv)
    if args.command == "run":  # as early as possible: a signal during the imports still ends the run cleanly
        from bench.run.supervise import record_signals

        record_signals()
    try:
        return args.handler(args)
    except ValueError as error:  # DatasetError, ResultsError, UsageError, CheckError, registry errors
        return _refused(str(error))
    except OSError as error:  # a file that cannot be read or written: a folder for a file, no permission
        where = f"{error.filename}: " if error.filename else ""
        return _refused(f"cannot use {where}{error.strerror or error}")


def _refused(message: str) -> int:
    """The one ``error:`` line of a refused command: no password, no control character reaches a terminal."""
    from bench.core.escape import terminal
    from bench.core.secrets import redact

    print(f"error: {terminal(redact(message))}", file=sys.stderr)
    return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
