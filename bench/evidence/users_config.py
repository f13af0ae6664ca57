"""What the suite's deterministic timing costs against the configuration users run.

The quick and ci profiles time with TensorFlow's op determinism on (accuracy and parity need it).  With
it on, Keras 3 turns ``jit_compile="auto"`` into no XLA on TensorFlow; on a machine without an
accelerator it does so anyway (Keras 3.15's ``_resolve_auto_jit_compile``), so there a user's default
``compile()`` differs from the suite's timing only in determinism.  ``python -m bench.evidence.users_config
--out DIR`` runs the ci profile's train steps and batched predicts in two pairs, each side by side as
``bench regress`` runs one (started together, one kernel thread each, every benchmark started together):
the suite's configuration against determinism off (the users' default here), and against determinism off
with ``jit_compile=True`` (XLA).  Per cell it writes the ratio of the model's median CPU time per round
(the other configuration over the suite's) with a bootstrap 95% CI and a Mann-Whitney p, and the
compilation in effect on each side (``model.jit_compile`` after the rounds), to USERS-CONFIG.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from bench.check.sidebyside import bench_run, duet_run
from bench.core import results as results_io
from bench.core.paths import EVIDENCE, PROJECT_ROOT
from bench.core.stats import compare_samples

SELECTION = "train_throughput or inference_throughput"
#: the configurations measured against the suite's: name -> BENCH_OVERRIDES
VARIANTS = {"users": {"deterministic": False}, "users-xla": {"deterministic": False, "jit": "true"}}
OUT = EVIDENCE / "users-config"


def files(out: Path, variant: str) -> tuple[Path, Path]:
    return out / f"suite-beside-{variant}.json", out / f"{variant}.json"


def measure(out: Path, variant: str) -> tuple[Path, Path]:
    """The suite's configuration and ``variant``, side by side; their results files."""
    suite, users = files(out, variant)
    with tempfile.TemporaryDirectory(prefix="bench-duet-") as folder, ThreadPoolExecutor(2) as pool:
        base_args, base_env = duet_run(["-k", SELECTION], Path(folder), "baseline")
        args, env = duet_run(["-k", SELECTION], Path(folder), "checkout")
        env = {**env, "BENCH_OVERRIDES": json.dumps(VARIANTS[variant])}
        jobs = [pool.submit(bench_run, PROJECT_ROOT, suite, base_args, sys.executable, base_env),
                pool.submit(bench_run, PROJECT_ROOT, users, args, sys.executable, env)]  # fmt: skip
        statuses = [job.result() for job in jobs]
    if any(status != 0 for status in statuses) or not (suite.is_file() and users.is_file()):
        raise SystemExit(f"error: a run failed (exit {statuses}); see the output above")
    return suite, users


def table(suite_file: Path, users_file: Path) -> pd.DataFrame:
    """Per cell: users' / suite's median CPU time per round, its CI and p, and each side's compilation."""
    suite, users = (results_io.frame(results_io.load(path)) for path in (suite_file, users_file))
    by_name = {row.name: row for row in users.itertuples()}
    rows = []
    for row in suite.itertuples():
        other = by_name.get(row.name)
        if other is None or row.kind not in ("train_throughput", "inference_throughput"):
            continue
        base_cpu = np.asarray(results_io.timed_rounds(row.extra, row.data)[0], float)
        cur_cpu = np.asarray(results_io.timed_rounds(other.extra, other.data)[0], float)
        c = compare_samples(cur_cpu, base_cpu)
        rows.append({
            "cell": row.id, "kind": "train step" if row.kind == "train_throughput" else "predict",
            "suite: XLA": "yes" if row.extra.get("jit") else "no",
            "other: XLA": "yes" if other.extra.get("jit") else "no",
            "other ÷ suite, CPU time per round": f"×{c.ratio:.3f} [{c.low:.3f}–{c.high:.3f}]",
            "p": f"{c.p_value:.2g}",
        })  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.evidence.users_config", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument(
        "--summarize", action="store_true", help="only rebuild USERS-CONFIG.md from the stored runs"
    )
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    parts = []
    for variant, overrides in VARIANTS.items():
        pair = files(out, variant) if args.summarize else measure(out, variant)
        suite = results_io.load(pair[0])["machine_info"]["suite"]
        parts.append(f"## The suite's timing against BENCH_OVERRIDES='{json.dumps(overrides)}'\n\n"
                     f"ci profile, {suite.get('cpu_model')}, {suite.get('cpu_threads')} cores, keras "
                     f"{suite['versions'].get('keras')}, tensorflow {suite['versions'].get('tensorflow')}; "
                     f"one pair of runs.\n\n{table(*pair).to_markdown(index=False)}\n")  # fmt: skip
    text = (
        "# Determinism off and XLA on, against the suite's timing\n\n"
        + " ".join(__doc__.split("\n\n")[1].split())
        + "\n\n"
        + "\n".join(parts)
    )
    (out / "USERS-CONFIG.md").write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
