"""Time to first step and peak memory of one (arch, api), measured in a fresh process.

Run as ``python -m bench.probe ARCH API --batch N [--profile P]``; prints one JSON
object.  A fresh process is the only honest way to see a first step (nothing
traced or cached yet) and a peak RSS that belongs to one model alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time


def _rss_bytes() -> int:
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("arch")
    parser.add_argument("api")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--steps", type=int, default=5, help="train steps after the first, for peak memory")
    args = parser.parse_args(argv)

    import numpy as np

    from bench import backend_ops
    from bench.profiles import get_profile
    from bench.steps import compiled_model, train_step

    profile = get_profile(args.profile)
    rng = np.random.default_rng(profile.seed)
    images = rng.random((args.batch, 28, 28, 1), dtype=np.float32)
    labels = rng.integers(0, 10, args.batch)
    baseline_rss = _rss_bytes()  # after importing the framework

    start = time.perf_counter()
    model = compiled_model(args.arch, args.api, profile)
    built = time.perf_counter()
    step = train_step(model, images, labels)
    loss = step()
    first_step = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    json.dump(
        {
            "build_s": built - start,
            "first_step_s": first_step - start,
            "compile_and_first_step_s": first_step - built,
            "baseline_rss_bytes": baseline_rss,
            "peak_rss_bytes": _peak_rss_bytes(),
            "rss_growth_bytes": _peak_rss_bytes() - baseline_rss,
            "device_peak_bytes": backend_ops.device_memory_peak_bytes(),
            "loss": loss,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
