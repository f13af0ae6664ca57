"""Time to first step and peak memory of one (arch, api), measured in a fresh process.

Run as ``python -m bench.probes.first_step ARCH API --batch N [--profile P]``; prints one JSON
object.  A fresh process is the only honest way to see a first step (nothing
traced or cached yet) and a peak RSS that belongs to one model alone.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

# 2: the peak is this process's own high-water mark (VmHWM), reset after the framework import.
# Version 1 read getrusage's ru_maxrss, which Linux carries across fork and exec: every probe
# reported the pytest parent's resident size instead of its own.
RSS_PROBE_VERSION = 2


def rss_bytes() -> int:
    """Resident set size of this process now."""
    with open("/proc/self/statm", encoding="ascii") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def peak_rss_bytes() -> int:
    """This process's resident high-water mark (VmHWM), which exec does not inherit."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # reported in kB
    raise OSError("/proc/self/status has no VmHWM line")


def reset_peak_rss() -> bool:
    """Lower the high-water mark to the current RSS (Linux >= 4.0); False where not permitted."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.probes.first_step")
    parser.add_argument("arch")
    parser.add_argument("api")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--steps", type=int, default=5, help="train steps after the first, for peak memory")
    args = parser.parse_args(argv)

    import numpy as np

    from bench.core.profiles import get_profile
    from bench.run import backend_ops
    from bench.run.steps import NATIVE, compiled_model, train_step

    import implementations

    profile = get_profile(args.profile)
    if args.api == NATIVE:
        rng = np.random.default_rng(profile.seed)
        images = rng.random((args.batch, 28, 28, 1), dtype=np.float32)
        labels = rng.integers(0, 10, args.batch)
    else:
        images, labels = implementations.model_set(args.arch).sample_batch(args.batch, profile.seed)
        implementations.model_set(args.arch).accuracy_metrics  # worked out here, not inside the timed compile
    # the peak should belong to the model: start counting after the framework import
    peak_since_import = reset_peak_rss()
    baseline_rss = rss_bytes()

    start = time.perf_counter()
    if args.api == NATIVE:  # the model written in the backend's own framework, compiled on its first step
        from implementations import native

        model = native.build(
            args.arch, backend_ops.backend_name(), seed=profile.seed, compiled=profile.jit == "true"
        )
    else:
        model = compiled_model(args.arch, args.api, profile)
    built = time.perf_counter()
    step = train_step(model, images, labels)
    loss = step()
    first_step = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    peak_rss = peak_rss_bytes()
    json.dump(
        {
            "build_s": built - start,
            "first_step_s": first_step - start,
            "compile_and_first_step_s": first_step - built,
            "baseline_rss_bytes": baseline_rss,
            "peak_rss_bytes": peak_rss,
            "rss_growth_bytes": peak_rss - baseline_rss,
            "peak_rss_since_import": peak_since_import,
            "rss_probe_version": RSS_PROBE_VERSION,
            "device_peak_bytes": backend_ops.device_memory_peak_bytes(),
            "loss": loss,
            "train_steps": 1 + args.steps,
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
