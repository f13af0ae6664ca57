"""``bench bisect GOOD BAD``: the first commit between them that made a benchmark slower.

Each probe is what ``bench regress`` does, with GOOD as the baseline: a commit and GOOD measured side by
side, the timed benchmarks 2% or more slower measured again in further pairs and judged pooled by the
regression rule (:mod:`bench.check.compare`).  A probe answers *bad* (a regression after confirmation),
*good* (no suspect, or every suspect cleared) or *open* (still 2% or more slower after the last pair, and
not a regression).  BAD is probed first: good means "no regression between GOOD and BAD".  Then a binary
search over the commits of the ancestry path: an open probe ends it with "inconclusive between X and Y",
never a guess.  Every probe's results files go into the history (trigger ``bisect``).

Exit status: 0 no regression between GOOD and BAD, 1 a first bad commit named, 3 inconclusive, 2 bad input
(a commit git does not know, GOOD not an ancestor of BAD, a store that does not open).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.check import stopping
from bench.check.checkouts import BaselineCheckout, CheckError, ModelsRepository, git, worktree_of
from bench.core.paths import PROJECT_ROOT
from bench.check.sidebyside import measure_pair, pair_files, selection, written_since
from bench.core import results as results_io
from bench.history.record import record_files
from bench.history.store import open_store

BAD, GOOD, OPEN = "bad", "good", "open"
EXIT_INCONCLUSIVE = 3


def resolve(commit: str, repo: Path = PROJECT_ROOT) -> str:
    """The full id of ``commit``; CheckError (exit 2) when git does not know it."""
    try:
        return git("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}", repo=repo)
    except CheckError:
        raise CheckError(f"git does not know the commit {commit!r}") from None


def commits_between(good: str, bad: str, repo: Path = PROJECT_ROOT) -> list[str]:
    """The commits after ``good`` up to ``bad`` on the path between them, oldest first (``bad`` last)."""
    try:
        git("merge-base", "--is-ancestor", good, bad, repo=repo)
    except CheckError:
        raise CheckError(
            f"{good[:12]} is not an ancestor of {bad[:12]}: bisect needs GOOD before BAD"
        ) from None
    listed = git("rev-list", "--ancestry-path", "--reverse", f"{good}..{bad}", repo=repo).split()
    if not listed:
        raise CheckError(f"no commits between {good[:12]} and {bad[:12]}")
    return listed


def search(commits: list[str], probe: Callable[[str], str]) -> tuple[str, int, int]:
    """(outcome, lo, hi) of a binary search for the first bad commit; ``commits[hi]`` is it when the outcome
    is BAD (lo = hi - 1; -1 stands for GOOD), GOOD when even the last commit is good, OPEN when a probe
    could not decide (the culprit lies after ``lo`` and at or before ``hi``)."""
    last = probe(commits[-1])
    if last != BAD:
        return last, -1, len(commits) - 1
    lo, hi = -1, len(commits) - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        answer = probe(commits[mid])
        if answer == OPEN:
            return OPEN, lo, hi
        lo, hi = (lo, mid) if answer == BAD else (mid, hi)
    return BAD, lo, hi


def _judge(base: Path, cur: Path, out_dir: Path, measure) -> tuple[str, str]:
    """(BAD / GOOD / OPEN, a line of figures) from a probe's first pair and its confirming pairs."""
    from bench.check.compare import REGRESSION, confirm_suspects, suspected_slowdowns, undecided

    first = (results_io.load(base), results_io.load(cur))
    suspects = suspected_slowdowns(*first)
    if not suspects:
        return GOOD, "no timed benchmark 2% or more slower"
    verdicts = confirm_suspects(first, suspects, measure)
    figures = ", ".join(f"{v.benchmark} ×{v.median_ratio:.3f} over {v.pairs} pair(s)" for v in verdicts)
    if any(v.verdict == REGRESSION for v in verdicts):
        return BAD, figures
    return (OPEN if undecided(verdicts) else GOOD), figures


def bisect(good: str, bad: str, out_dir: str | Path, k: str | None, db: str | None = None,
           models: list[str] | None = None) -> int:  # fmt: skip
    """Find the first bad commit between ``good`` and ``bad`` among the benchmarks ``k`` selects (as pytest
    -k does; None: all); print the answer; the exit status above.  With ``models`` (users' models files), the
    commits are those of the git repository that holds them, each measured by this installed suite."""
    repository = ModelsRepository.of(models) if models else None
    repo = repository.root if repository else PROJECT_ROOT
    good, bad = resolve(good, repo), resolve(bad, repo)
    commits = commits_between(good, bad, repo)

    def side(tree: Path, commit: str) -> BaselineCheckout:
        return repository.side(tree, commit) if repository else BaselineCheckout(tree, sys.executable, commit)

    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    store = open_store(db)
    started = time.time()
    extra = ["-k", k] if k else []
    print(f"bench bisect: {len(commits)} commit(s) after {good[:12]} up to {bad[:12]}; "
          f"the good end is every probe's baseline", flush=True)  # fmt: skip
    try:
        with stopping.stopped_cleanly_on_signals("bench bisect"), worktree_of(good, repo) as good_tree:
            baseline = side(good_tree, good)

            def probe(commit: str) -> str:
                folder = out_dir / commit[:12]
                folder.mkdir(exist_ok=True)
                with worktree_of(commit, repo) as tree:
                    probed = side(tree, commit)

                    def measure(number: int, names: list[str]):
                        base_again, again = pair_files(folder, number)
                        measure_pair(baseline, base_again, again, ["-k", selection(names)], probed)
                        return results_io.load(base_again), results_io.load(again)

                    base, cur = pair_files(folder, 1)
                    measure_pair(baseline, base, cur, extra, probed)
                    if not cur.is_file():
                        raise CheckError(f"the run of {commit[:12]} wrote no results")
                    answer, figures = _judge(base, cur, folder, measure)
                print(f"bench bisect: {commit[:12]} is {answer}: {figures}", flush=True)
                return answer

            outcome, lo, hi = search(commits, probe)
    except stopping.Interrupted as stop:
        print(f"bench bisect: interrupted by {stop}; the runs stopped, the worktrees removed; results kept "
              f"in {out_dir}", file=sys.stderr)  # fmt: skip
        return 128 + stop.signum
    finally:
        record_files(store, written_since(out_dir, started, "*/*.json"), "bisect")

    def name(index: int) -> str:
        return good[:12] if index < 0 else commits[index][:12]

    if outcome == GOOD:
        print(f"no regression between {good[:12]} and {bad[:12]}")
        return 0
    if outcome == BAD:
        subject = git("log", "-1", "--format=%s", commits[hi], repo=repo)
        print(f"first bad commit {commits[hi]} ({subject})")
        return 1
    print(f"inconclusive between {name(lo)} and {name(hi)}: a probe stayed 2% or more slower without being "
          "a regression; measure those commits again (bench regress) or widen the selection")  # fmt: skip
    return EXIT_INCONCLUSIVE
