"""Command line: ``python -m bench {run,report,compare,data}``.

Every expected failure (bad data, a foreign or truncated results file, a wrong
argument) ends in one ``error: ...`` line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
EXIT_BAD_INPUT = 2


class UsageError(ValueError):
    """A command-line problem the user can fix."""


def _run(args: argparse.Namespace) -> int:
    from bench.profiles import get_profile

    get_profile(args.profile)  # a wrong name or a bad BENCH_* switch stops here, with its message
    out = Path(args.out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(PROJECT_ROOT / "bench" / "benchmarks"),
        "-p",
        "no:cacheprovider",
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
    if args.k:
        command += ["-k", args.k]
    command += args.pytest_args
    env = {**os.environ, "BENCH_PROFILE": args.profile, "TF_CPP_MIN_LOG_LEVEL": "3"}
    print(
        f"bench run: profile {args.profile}, backend {env.get('KERAS_BACKEND', 'tensorflow')}, writing {out}",
        flush=True,
    )
    completed = subprocess.run(command, cwd=PROJECT_ROOT, env=env)
    if not out.is_file():
        raise UsageError(f"the benchmark run wrote no results (pytest exit status {completed.returncode})")
    if completed.returncode != 0:
        print(
            f"error: some benchmarks failed (pytest exit status {completed.returncode}); "
            f"the ones that ran are in {out}",
            file=sys.stderr,
        )
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from bench import results

    for path in args.results:  # reject unusable files before the framework is imported and logs
        results.load(path)
    from reports.build import build_report

    report = build_report(args.results, args.out)
    print(f"wrote {report}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from bench.compare import compare_files

    return compare_files(args.baseline, args.current, markdown_out=args.markdown)


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
    except ValueError as error:  # DatasetError, ResultsError, UsageError and the registry's ValueErrors
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT


if __name__ == "__main__":
    sys.exit(main())
