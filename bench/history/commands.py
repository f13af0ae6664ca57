"""``python -m bench history add|show|changes|publish|annotate``: the command line's side of the store.

Exit status: 0, or 1 where ``changes`` finds a series whose newest change is a regression; bad input (a
foreign or truncated results file, a store that does not open, an unknown commit) is one ``error:`` line and
2, with the store unchanged.  Nothing but argparse is imported before a command runs.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add(args: argparse.Namespace) -> int:
    from bench.history.record import add_files
    from bench.history.store import open_store, url_of

    engine = open_store(args.db)
    print(add_files(engine, args.files, machine=args.machine, trigger=args.trigger).describe(url_of(args.db)))
    return 0


def _analysed(args: argparse.Namespace):
    from bench.history.analysis import analyse
    from bench.history.store import open_store

    return analyse(open_store(args.db), args.k)


def show(args: argparse.Namespace) -> int:
    from bench.history import render

    history = _analysed(args)
    print(render.show_json(history) if args.json else render.show_markdown(history))
    return 0


def changes(args: argparse.Namespace) -> int:
    from bench.history import render

    history = _analysed(args)
    print(render.changes_json(history) if args.json else render.changes_markdown(history))
    return 1 if history.regressions else 0


def publish(args: argparse.Namespace) -> int:
    from bench.history.publish import publish as write_page
    from bench.history.store import shown, url_of

    history = _analysed(args)
    page = write_page(history, Path(args.out), shown(url_of(args.db)))
    print(f"wrote {page} ({len(history.series)} series, {len(history.regressions)} regression(s))")
    return 0


def annotate(args: argparse.Namespace) -> int:
    from bench.history.record import annotate as mark
    from bench.history.store import open_store

    full = mark(open_store(args.db), args.commit, args.note, machine=args.machine, benchmark=args.benchmark)
    print(f"history: annotated {full[:12]}: {args.note} (change detection restarts there)")
    return 0


def add_parser(commands) -> None:
    """The ``history`` command and its subcommands."""
    history = commands.add_parser(
        "history", help="the store of every run: add, show, changes, publish, annotate"
    )
    sub = history.add_subparsers(dest="history_command", required=True)
    db_help = (
        "store: a SQLite path or a SQLAlchemy URL (default $BENCH_HISTORY_DB, else bench-history.sqlite)"
    )

    one = sub.add_parser("add", help="add results files written by bench run or bench regress")
    one.add_argument("files", nargs="+")
    one.add_argument(
        "--machine", help="the runner's name (default: recorded $BENCH_MACHINE, else from the CPU)"
    )
    one.add_argument(
        "--trigger", default="add", help="what made these runs (add, regress, bisect, nightly...)"
    )
    one.set_defaults(handler=add)
    views = (
        ("show", show, "every series: runs, commits, latest figures"),
        ("changes", changes, "change points; exit 1 where a series' newest is a regression"),
        ("publish", publish, "a static page with trend plots and the regressions"),
    )
    for name, handler, text in views:
        parser = sub.add_parser(name, help=text)
        parser.add_argument("-k", help="only benchmarks whose name contains this")
        if name == "publish":
            parser.add_argument("--out", required=True, help="folder for index.html and the plots")
        else:
            parser.add_argument("--json", action="store_true", help="JSON instead of Markdown")
        parser.set_defaults(handler=handler)
    note = sub.add_parser("annotate", help="mark an intended shift at a commit; detection restarts there")
    note.add_argument("commit")
    note.add_argument("--note", required=True)
    note.add_argument("--machine", help="only this machine's series")
    note.add_argument("--benchmark", help="only this benchmark's series")
    note.set_defaults(handler=annotate)
    for parser in (one, note, *[sub.choices[n] for n in ("show", "changes", "publish")]):
        parser.add_argument("--db", help=db_help)
