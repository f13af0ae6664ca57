"""Real framework changes through the regression check: what ``bench regress`` says about an upgrade.

The planted slowdowns of :mod:`bench.evidence.campaigns` show what the check catches.  These comparisons
show what it says about the framework changes users actually meet.  Each folder under
reports/evidence/releases/ is the output of one ``bench regress``:

- an upgrade: the baseline recorded older keras / framework / numpy versions, so the check installed
  those into an environment of its own (:func:`bench.check.checkouts.baseline_environment`) and ran the
  same code at the old and the new releases side by side.  The same code: the baseline commit
  differs from the checkout only in ``pyproject.toml``'s lower bounds, which must admit the older
  releases for pip to install them;
- a kernel switch: the checkout's runs with a recorded framework setting changed, such as
  TF_ENABLE_ONEDNN_OPTS=0 (TensorFlow's CPU kernels from Eigen instead of oneDNN): the framework's
  real kernels slower, no plant in anyone's code.

``python -m bench.evidence.releases summarize`` re-judges every stored comparison from its results files
with the check's own rules (:func:`bench.check.compare.compare`, :func:`bench.check.compare.confirm_suspects`
on the stored confirming pairs, :func:`bench.check.framework_gate.judge`) and writes RELEASES.md: the
figures there come from the files, not from the run's printed output."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bench.check import compare, framework_gate
from bench.check.checkouts import PINNED
from bench.check.sidebyside import FIRST_PAIR, GATE_PAIR, pair_files
from bench.core import results as results_io
from bench.core.pairs import raw_ratio
from bench.core.paths import EVIDENCE
from bench.core.results import ResultsError
from bench.evidence.archive import stored

RELEASES = EVIDENCE / "releases"


def _load_pair(paths: tuple[Path, Path]) -> tuple[dict, dict] | None:
    """The (baseline, current) results of a stored pair, or None where it was not measured."""
    return (results_io.load(paths[0]), results_io.load(paths[1])) if all(p.is_file() for p in paths) else None


def framework_changes(base: dict, current: dict) -> dict[str, tuple[str, str]]:
    """name -> (baseline's, current's) for each pinned distribution whose version differs, and each
    recorded setting (``machine_info.suite.env``, such as TF_ENABLE_ONEDNN_OPTS) that differs."""
    suites = [run["machine_info"]["suite"] for run in (base, current)]
    versions = [suite.get("versions") or {} for suite in suites]
    names = sorted({name for pinned in PINNED.values() for name in pinned})
    changed = {n: (versions[0][n], versions[1][n]) for n in names if versions[0].get(n) != versions[1].get(n)}
    settings = [suite.get("env") or {} for suite in suites]
    for key in sorted(set(settings[0]) | set(settings[1])):
        if settings[0].get(key) != settings[1].get(key):
            changed[key] = (settings[0].get(key, "unset"), settings[1].get(key, "unset"))
    return changed


def _range(values: list[float]) -> list[float]:
    return [round(float(min(values)), 4), round(float(max(values)), 4)] if values else []


def judge_comparison(folder: Path) -> dict:
    """One stored comparison, judged again from its files: what changed, the first pair's normalized and
    raw ratios per kind, each suspect's verdict over the stored confirming pairs, the gate's verdict, and
    the regressions standing."""
    first = _load_pair(pair_files(folder, 1))
    if first is None:
        raise ResultsError(f"{folder}: no {' and '.join(FIRST_PAIR)} (not a bench regress output)")
    changed = framework_changes(*first)
    if not changed:
        raise ResultsError(f"{folder}: the baseline and the checkout ran the same versions and settings")
    kinds = compare.benchmark_kinds(first[0])
    verdicts = compare.compare(*first)
    suspects = compare.suspected_slowdowns(*first)
    pairs_used = [1]

    def stored_pair(number: int, _names: list[str]) -> tuple[dict, dict]:
        pair = _load_pair(pair_files(folder, number))
        if pair is None:
            raise ResultsError(f"{folder}: the check asks for pair {number}, which is not stored")
        pairs_used.append(number)
        return pair

    confirmed = compare.confirm_suspects(first, suspects, stored_pair) if suspects else []
    gate_pair = _load_pair((folder / GATE_PAIR[0], folder / GATE_PAIR[1]))
    gate = framework_gate.judge([first, *([gate_pair] if gate_pair else [])])
    standing = [v.benchmark for v in confirmed if v.verdict == compare.REGRESSION]
    standing += compare.untimed_regressions(verdicts, kinds)
    if gate.verdict == framework_gate.REGRESSION:
        standing.append(framework_gate.GATE_NAME)
    # the first pair's normalized ratios are its timed verdicts'; the raw ones, the model's CPU time alone
    timed = {kind: [v for v in verdicts if kinds.get(v.benchmark) == kind] for kind in compare.TIMED_KINDS}
    return {
        "comparison": folder.name,
        "changed": {name: list(pair) for name, pair in changed.items()},
        "cpu_model": first[1]["machine_info"]["suite"].get("cpu_model"),
        "normalized_ratio_range": {
            kind: _range([compare.median_ratio(v) for v in timed[kind]]) for kind in timed
        },
        "raw_ratio_range": {
            kind: _range([raw_ratio(first, v.benchmark) for v in timed[kind]]) for kind in timed
        },
        "suspects": {v.benchmark: {"ratio": v.ratio, "verdict": v.verdict} for v in confirmed},
        "pairs": max(pairs_used),
        "gate_index": [round(i, 4) for i in gate.indices],
        "gate": gate.verdict,
        "accuracy_change": {v.benchmark: v.ratio for v in verdicts if kinds.get(v.benchmark) == "accuracy"},
        "regressions": standing,
    }


def _shown(values: list[float]) -> str:
    return f"×{values[0]:.3f}–{values[1]:.3f}" if values else "n/a"


def markdown(judged: list[dict]) -> str:
    """RELEASES.md: one row per stored comparison."""
    lines = [
        "# Real framework changes through the regression check",
        "",
        "Each row is one `bench regress`: of an upgrade, whose baseline recorded older releases (the check "
        "installed them into an environment of its own and ran the same code at the old and the new releases "
        "side by side), or of a recorded framework setting changed in the checkout's runs only "
        "(`bench/evidence/releases.py`; re-judged from the stored results files by `python -m bench.evidence.releases "
        "summarize`). Ratios are new ÷ old median time per round, lowest–highest over the first pair's "
        "benchmarks of each kind: normalized (each round ÷ the native reference rounds around it, what the "
        "check judges) and raw (the model's CPU time alone). The gate's index is the geometric mean of the "
        "raw ratios of the `cnn-functional` train step and batched predict.",
        "",
        "| comparison | CPU | changed (old → new) | train | batched predict | batch 1 "
        "| suspects, pooled over their pairs | absolute-time gate | regressions |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in judged:
        changed = ", ".join(f"{name} {old} → {new}" for name, (old, new) in row["changed"].items())
        kinds = [
            f"{_shown(row['normalized_ratio_range'][kind])} (raw {_shown(row['raw_ratio_range'][kind])})"
            for kind in compare.TIMED_KINDS
        ]
        suspects = "; ".join(f"`{name}` {s['ratio']} {s['verdict']}" for name, s in row["suspects"].items())
        gate = " then ".join(f"×{i:.3f}" for i in row["gate_index"]) + f": {row['gate']}"
        lines.append(
            f"| {row['comparison']} | {row['cpu_model']} | {changed} | {' | '.join(kinds)} | "
            f"{suspects or 'none'} ({row['pairs']} pair{'s' if row['pairs'] > 1 else ''}) | {gate} | "
            f"{', '.join(row['regressions']) or 'none'} |"
        )
    return "\n".join(lines) + "\n"


def stored_comparisons(root: Path) -> list[Path]:
    """The stored bench regress outputs under ``root``: folders, or their packed archives (unpacked to read)."""
    names = {p.name for p in root.iterdir() if p.is_dir()} | {p.stem for p in root.glob("*.zip")}
    folders = [stored(root / name) for name in sorted(names)]
    return [folder for folder in folders if (folder / FIRST_PAIR[1]).is_file()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.evidence.releases", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    summarize = commands.add_parser("summarize", help="re-judge every stored comparison, write RELEASES.md")
    summarize.add_argument("--root", default=str(RELEASES), help="the folder of stored comparisons")
    args = parser.parse_args(argv)
    root = Path(args.root)
    try:
        folders = stored_comparisons(root) if root.is_dir() else []
        if not folders:
            raise ResultsError(f"{root}: no stored bench regress output (a folder with {FIRST_PAIR[1]})")
        text = markdown([judge_comparison(folder) for folder in folders])
    except (ResultsError, OSError) as error:
        print(f"bench.evidence.releases: {error}", file=sys.stderr)
        return 2
    (root / "RELEASES.md").write_text(text, encoding="utf-8")
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
