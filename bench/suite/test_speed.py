"""Speed and memory of every (arch, api): train and inference throughput, latency, first step, memory.

Timed rounds interleave with a partner workload (run in pedantic's untimed
``setup``, once before every round and once after the last): the same
architecture's Functional model in the quick and full profiles, so each round
divided by its partner rounds is a paired API ratio; the native reference cnn in
the ci profile, so the regression check compares ratios that a slower Keras still
moves (:mod:`bench.run.reference`).  pytest-benchmark keeps each round's wall time; the
process CPU time of each round and of the partner rounds go into ``extra_info``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from bench.core.paths import PROJECT_ROOT
import implementations
from bench.run import backend_ops
from bench.run.reference import FUNCTIONAL_PARTNER, LATENCY, PREDICT, TRAIN, FunctionalPartner
from bench.run.steps import NATIVE, effective_jit, inference_step, native_skip_reason, timed_model, train_step
from bench.run.timing import RoundClock
from bench.suite.conftest import TIMED_CELLS


def _common_info(benchmark, model, profile, batch: int) -> None:
    benchmark.extra_info.update(
        {
            "batch": batch,
            "backend": backend_ops.backend_name(),
            "device": backend_ops.accelerator() or "CPU",
            "jit": effective_jit(model),
            "mixed_precision": profile.mixed_precision,
            "params": int(model.count_params()),
        }
    )


_PARTNERS: dict = {}


@pytest.fixture
def pacer(request, profile, batch_of, arch):
    """The workload each timed round of ``arch`` is paired with, as the profile says (built once per arch)."""
    if profile.partner != FUNCTIONAL_PARTNER:
        return request.getfixturevalue("reference")
    if arch not in _PARTNERS:
        _PARTNERS[arch] = FunctionalPartner(
            arch,
            profile,
            train_batch=batch_of(profile.train_batch, arch),
            predict_images=batch_of(profile.inference_batch, arch)[0],
        )
    return _PARTNERS[arch]


def _skip_the_partner(profile, arch: str, api: str) -> None:
    """In a functional-partner profile the partner (Functional, or a models file's first API without it) is
    timed in every other cell's rounds: no cell of its own (the report derives its figures and its A/A from
    those rounds, bench.core.results.partner_rows).  A file of one API has no partner: its cell is timed."""
    chosen = implementations.model_set(arch)
    if profile.partner == FUNCTIONAL_PARTNER and api == chosen.partner and len(chosen.apis) > 1:
        pytest.skip(f"n/a: {api} is timed as every other cell's partner; its figures come from those")


def _interleaved(benchmark, reference, target, *, kind: str, rounds: int, warmup_rounds: int):
    """benchmark.pedantic with a partner step of ``kind`` timed before every round and after the last."""
    clock = RoundClock(target)
    reference.take_times(kind, 0)
    result = benchmark.pedantic(
        clock,
        setup=lambda: reference.time_once(kind),
        rounds=rounds,
        warmup_rounds=warmup_rounds,
        iterations=1,
    )
    reference.time_once(kind)  # one more after the last round: each round is bracketed by two
    reference_cpu, reference_wall = reference.take_times(kind, rounds + 1)  # warm-up rounds dropped
    cpu, _ = clock.take(rounds)
    benchmark.extra_info.update(
        {
            "cpu_round_s": cpu,
            "reference_round_s": reference_wall,
            "reference_cpu_round_s": reference_cpu,
            "reference_kind": kind,
            "reference": reference.name,
        }
    )
    return result


def _round_times(benchmark) -> list[float]:
    stats = getattr(benchmark, "stats", None)
    return list(stats.stats.data) if stats is not None else []


@pytest.mark.parametrize(("arch", "api"), TIMED_CELLS)
def test_train_throughput(benchmark, profile, pacer, batch_of, arch, api):
    _skip_the_partner(profile, arch, api)
    model = timed_model(arch, api, profile)
    images, labels = batch_of(profile.train_batch, arch)
    step = train_step(model, images, labels)
    loss = _interleaved(
        benchmark,
        pacer,
        step,
        kind=TRAIN,
        rounds=profile.train_rounds,
        warmup_rounds=profile.train_warmup_rounds,
    )
    assert math.isfinite(loss), f"train step of {arch}-{api} returned loss {loss}"
    _common_info(benchmark, model, profile, profile.train_batch)
    times = _round_times(benchmark)
    if times:
        benchmark.extra_info["images_per_s"] = profile.train_batch / float(np.median(times))


def _timed_predict(benchmark, profile, reference, batch_of, arch, api, *, batch, kind, rounds, warmup_rounds):
    """Time the compiled predict of (arch, api) on ``batch`` images; returns the per-round times."""
    _skip_the_partner(profile, arch, api)
    model = timed_model(arch, api, profile)
    images, _ = batch_of(batch, arch)
    logits = _interleaved(
        benchmark,
        reference,
        inference_step(model, images),
        kind=kind,
        rounds=rounds,
        warmup_rounds=warmup_rounds,
    )
    assert len(logits) == batch and np.isfinite(logits).all(), f"predict of {arch}-{api}: {logits.shape}"
    _common_info(benchmark, model, profile, batch)
    return _round_times(benchmark)


@pytest.mark.parametrize(("arch", "api"), TIMED_CELLS)
def test_inference_throughput(benchmark, profile, pacer, batch_of, arch, api):
    batch = profile.inference_batch
    times = _timed_predict(
        benchmark, profile, pacer, batch_of, arch, api,
        batch=batch, kind=PREDICT, rounds=profile.inference_rounds, warmup_rounds=2,
    )  # fmt: skip
    if times:
        benchmark.extra_info["images_per_s"] = batch / float(np.median(times))


@pytest.mark.parametrize(("arch", "api"), TIMED_CELLS)
def test_latency_batch1(benchmark, profile, pacer, batch_of, arch, api):
    times = _timed_predict(
        benchmark, profile, pacer, batch_of, arch, api,
        batch=1, kind=LATENCY, rounds=profile.latency_rounds, warmup_rounds=3,
    )  # fmt: skip
    if times:
        benchmark.extra_info["p50_s"] = float(np.percentile(times, 50))
        benchmark.extra_info["p90_s"] = float(np.percentile(times, 90))


def run_probe(arch: str, api: str, profile) -> dict:
    """Run bench.probes.first_step in a fresh interpreter and return its JSON report."""
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.probes.first_step",
            arch,
            api,
            "--batch",
            str(profile.train_batch),
            "--profile",
            profile.name,
            "--steps",
            "2",  # Adam's slots exist after the first step: the peak is reached by the third
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"probe of {arch}-{api} failed: {completed.stderr.strip().splitlines()[-1:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(("arch", "api"), TIMED_CELLS)
def test_first_step_and_memory(benchmark, profile, arch, api):
    if api == NATIVE and native_skip_reason(profile):
        pytest.skip(native_skip_reason(profile))
    if profile.first_step_apis is not None and api not in profile.first_step_apis:
        pytest.skip(f"n/a: the {profile.name} profile probes first step and memory with "
                    f"{', '.join(profile.first_step_apis)} only")  # fmt: skip
    reports = []
    benchmark.pedantic(
        lambda: reports.append(run_probe(arch, api, profile)), rounds=profile.first_step_rounds, iterations=1
    )
    assert reports and all(math.isfinite(r["loss"]) for r in reports)
    benchmark.extra_info.update(
        {
            "batch": profile.train_batch,
            "backend": backend_ops.backend_name(),
            "device": backend_ops.accelerator() or "CPU",
            "first_step_s": [r["first_step_s"] for r in reports],
            "build_s": [r["build_s"] for r in reports],
            "rss_growth_bytes": max(r["rss_growth_bytes"] for r in reports),
            "peak_rss_bytes": max(r["peak_rss_bytes"] for r in reports),
            "peak_rss_since_import": all(r["peak_rss_since_import"] for r in reports),
            "rss_probe_version": reports[0]["rss_probe_version"],
            "probe_train_steps": reports[0]["train_steps"],
            "device_peak_bytes": max((r["device_peak_bytes"] or 0) for r in reports) or None,
        }
    )
