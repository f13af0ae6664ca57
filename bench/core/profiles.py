"""Benchmark profiles: how much to measure, on which data, with which switches.

A profile is chosen with ``python -m bench run --profile NAME`` (``tox -e bench -- NAME``)
or the ``BENCH_PROFILE`` environment variable; every setting ends up in the results file.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field

PROFILE_ENV = "BENCH_PROFILE"


@dataclass(frozen=True)
class Profile:
    """One benchmark configuration. Defaults are the quick CPU profile's."""

    name: str
    description: str
    datasets: tuple[str, ...] = ("mnist-5k",)  # first that loads is used; later ones are fallbacks
    seed: int = 0  # model initialization, data order and Keras' global generators
    train_batch: int = 64  # the tutorial's batch size
    accuracy_batch: int | None = None  # batch size of the accuracy runs; None: train_batch
    train_warmup_rounds: int = 2  # absorb tracing and compilation
    train_rounds: int = 10
    inference_batch: int = 256
    inference_rounds: int = 6
    latency_rounds: int = 30  # batch 1
    first_step_rounds: int = 1  # fresh processes: build + compile + first train step
    epochs: dict[str, int] = field(default_factory=lambda: {"cnn": 6, "resnet": 2})
    train_subset: int | None = None  # at most this many training images for the accuracy runs
    test_subset: int | None = None
    accuracy_target: dict[str, float] = field(default_factory=lambda: {"cnn": 0.90, "resnet": 0.90})
    # targets when a fallback dataset was used (full: Fashion-MNIST is harder than MNIST)
    fallback_accuracy_target: dict[str, float] = field(default_factory=dict)
    jit: str = "auto"  # Keras compile(jit_compile=...): "auto", "true" or "false"
    mixed_precision: bool = False  # keras.mixed_precision policy "mixed_float16" when True
    deterministic: bool = True  # deterministic kernels (needed for accuracy regression checks)
    threads: int | None = None  # kernel threads per framework; None: the framework's default
    # before each evaluation, BatchNorm moving statistics are recomputed as the plain average over this
    # many training batches (0: keep what training left): short runs leave them far from the data's
    bn_recalibration_batches: int = 32
    # the APIs whose accuracy is measured (None: all); the parity tests hold the others to the same trajectory
    accuracy_apis: tuple[str, ...] | None = None
    # the APIs whose first step and peak memory are probed (None: all); each probe is a fresh process
    first_step_apis: tuple[str, ...] | None = None
    # what every timed round is paired with: "functional" (the same architecture's Functional model; the
    # API ratios of the report) or "reference" (the native cnn, no Keras; the regression check)
    partner: str = "functional"
    capabilities: bool = True  # run the capability probes (fresh processes, exports; about two minutes)
    native: bool = True  # also time the native models of the backend's framework (the "native" cells)
    # bench run tops up the train steps (bench.run.topup) while the median 95% CI half-width of their paired
    # ratios to Functional is above this and time_budget_s (from its start) leaves room; None: never
    precision_target: float | None = None
    time_budget_s: float | None = None
    overridden: list[str] = field(default_factory=list)  # fields changed through BENCH_OVERRIDES

    def to_dict(self) -> dict:
        return asdict(self)

    def target_for(self, arch: str, dataset: str) -> float | None:
        """The test accuracy the time-to-accuracy figure waits for (None for a user's model: no target)."""
        if dataset != self.datasets[0] and arch in self.fallback_accuracy_target:
            return self.fallback_accuracy_target[arch]
        return self.accuracy_target.get(arch)

    def epochs_for(self, arch: str) -> int:
        """Epochs of the accuracy run of ``arch``; a user's model trains as long as the profile's ``cnn``."""
        return self.epochs.get(arch) or self.epochs.get("cnn") or min(self.epochs.values(), default=1)

    @property
    def jit_compile(self):
        return {"auto": "auto", "true": True, "false": False}[self.jit]


PROFILES: dict[str, Profile] = {
    profile.name: profile
    for profile in (
        Profile(
            name="quick",
            description="every arch x API on the offline mnist-5k digits, one kernel thread, each round "
            "paired with the Functional model; sized for a 2-core CPU",
            threads=1,
            train_warmup_rounds=1,
            train_rounds=16,  # paired ratios: 95% CI half-width about 1-1.5% at 16-20 rounds, 2-4% at 10
            inference_batch=128,
            inference_rounds=8,
            latency_rounds=20,
            accuracy_batch=16,  # more, cheaper steps; BatchNorm statistics recomputed before each evaluation
            epochs={"cnn": 1, "resnet": 1},
            train_subset=1024,
            accuracy_target={"cnn": 0.80, "resnet": 0.90},
            # ten minutes on two cores: the other APIs' accuracy (identical under deterministic ops, as the
            # parity tests hold) and the native cells come with BENCH_OVERRIDES='{"accuracy_apis": null,
            # "native": true}'
            accuracy_apis=("functional",),
            native=False,
            # the report's target (bench.core.ratios.TARGET_HALF_WIDTH); tox -e bench within ten minutes, its
            # environment's setup and the report included
            precision_target=0.02,
            time_budget_s=480,
        ),
        Profile(
            name="full",
            description="the tutorial's recipe on a full dataset (cnn 3 epochs, resnet 20); meant for a GPU",
            datasets=("mnist", "fashion-mnist"),
            train_warmup_rounds=5,
            train_rounds=30,
            inference_batch=1024,
            inference_rounds=20,
            latency_rounds=100,
            first_step_rounds=2,
            epochs={"cnn": 3, "resnet": 20},
            accuracy_target={"cnn": 0.985, "resnet": 0.99},  # the tutorial reached 98.75% and 99.14%
            fallback_accuracy_target={"cnn": 0.90, "resnet": 0.91},
            deterministic=False,
            bn_recalibration_batches=0,  # the tutorial's recipe as it is
        ),
        Profile(
            name="ci",
            description="the regression check: single-threaded CPU time against the native reference, "
            "seeded accuracy",
            threads=1,
            # sized so that the two runs of bench.check.regress (the baseline commit and the checkout, side by
            # side on 2 cores) take 6-7 minutes, and a second pair of the suspects a minute or two
            train_warmup_rounds=1,
            train_rounds=16,
            inference_batch=128,
            inference_rounds=16,
            latency_rounds=40,
            first_step_apis=("functional",),  # warn-only figures; a fresh process each
            accuracy_batch=16,  # more, cheaper steps
            epochs={"cnn": 2, "resnet": 1},
            train_subset=1024,
            accuracy_apis=("functional",),
            partner="reference",
            native=False,  # the native cnn is already the reference every round is divided by
            capabilities=False,  # the regression check times; the report probes
            accuracy_target={"cnn": 0.85, "resnet": 0.5},
        ),
        Profile(
            name="smoke",
            description="a round or two of every timed cell on a few hundred images (accuracy and first "
            "step: Functional and native), for the tests",
            train_batch=16,
            train_warmup_rounds=1,
            train_rounds=2,
            inference_batch=32,
            inference_rounds=2,
            latency_rounds=3,
            epochs={"cnn": 1, "resnet": 1},
            train_subset=128,
            test_subset=64,
            bn_recalibration_batches=2,
            # one Keras API's accuracy path and the native training loop; the parity tests hold the other
            # APIs to the Functional model's training trajectory
            accuracy_apis=("functional", "native"),
            first_step_apis=("functional", "native"),  # the same probe for every API, a fresh process each
            capabilities=False,  # tests/test_capabilities.py probes them one by one
            accuracy_target={"cnn": 0.2, "resnet": 0.2},
        ),
    )
}

PARTNERS = ("functional", "reference")  # see Profile.partner
OVERRIDES_ENV = "BENCH_OVERRIDES"  # JSON object of profile fields to replace, recorded in the results


def get_profile(name: str | None = None) -> Profile:
    """The named profile (default: $BENCH_PROFILE, else quick) with the environment's switches applied.

    BENCH_JIT (auto/true/false) and BENCH_MIXED_PRECISION (0/1) flip those switches;
    BENCH_OVERRIDES='{"epochs": {"cnn": 3, "resnet": 4}}' replaces any other field.
    """
    name = name or os.environ.get(PROFILE_ENV) or "quick"
    if name not in PROFILES:
        raise ValueError(f"unknown profile {name!r}; valid profiles: {', '.join(PROFILES)}")
    settings = PROFILES[name].to_dict()
    jit = os.environ.get("BENCH_JIT")
    if jit:
        if jit not in ("auto", "true", "false"):
            raise ValueError(f"BENCH_JIT must be auto, true or false, not {jit!r}")
        settings["jit"] = jit
    precision = os.environ.get("BENCH_MIXED_PRECISION")
    if precision:
        settings["mixed_precision"] = precision.lower() in ("1", "true", "yes")
    overrides = os.environ.get(OVERRIDES_ENV)
    if overrides:
        try:
            changes = json.loads(overrides)
        except json.JSONDecodeError as error:
            raise ValueError(f"{OVERRIDES_ENV} is not JSON: {error}") from None
        unknown = sorted(set(changes) - set(settings)) if isinstance(changes, dict) else ["(not an object)"]
        if unknown:
            raise ValueError(f"{OVERRIDES_ENV} names unknown profile fields: {', '.join(unknown)}")
        settings.update(changes)
        settings["overridden"] = sorted(changes)
    if settings["partner"] not in PARTNERS:
        raise ValueError(f"partner must be one of {', '.join(PARTNERS)}, not {settings['partner']!r}")
    return Profile(**settings)
