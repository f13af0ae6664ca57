"""Fixtures shared by the benchmarks: the profile, the dataset, the reference workload, metadata."""

from __future__ import annotations

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from bench.core.profiles import get_profile  # noqa: E402
from bench.run.timing import apply_framework_threads, limit_threads  # noqa: E402

limit_threads(get_profile().threads)  # before any framework is imported

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import implementations  # noqa: E402
from bench.core.kinds import NATIVE  # noqa: E402
from bench.run import backend_ops, datasets, environment  # noqa: E402
from bench.run.reference import ReferenceWorkload  # noqa: E402
from implementations.loader import PROFILE_DATASET  # noqa: E402
from implementations.native import NATIVE_ARCHS  # noqa: E402


def uses_profile_data(arch: str) -> bool:
    """Whether ``arch`` takes the profile's dataset (the built-in archs) rather than its models file's own."""
    return implementations.model_set(arch).dataset == PROFILE_DATASET


CELLS = [pytest.param(arch, api, id=f"{arch}-{api}") for arch, api in implementations.cell_ids()]
#: the timed cells plus, after each built-in architecture's, the same model written natively in the backend's
#: framework
TIMED_CELLS = [
    pytest.param(arch, api, id=f"{arch}-{api}")
    for arch in implementations.ARCHS
    for api in (*implementations.model_set(arch).apis, *((NATIVE,) if uses_profile_data(arch)
                                                         and arch in NATIVE_ARCHS else ()))
]
_LOADED: dict = {}


def dataset_name() -> tuple[str, str | None]:
    """(what the results record as the dataset, its fallback note): the profile's, or each models file's."""
    names, note = [], None
    for arch in implementations.ARCHS:
        chosen = implementations.model_set(arch)
        if chosen.dataset == PROFILE_DATASET:
            name, _, note = _dataset()
            names.append(name)
        else:
            source = "data()" if chosen.data else "sample_batch()" if chosen.sampler else "inputs drawn at random"
            names.append(f"{arch}: {source}")
    return ", ".join(dict.fromkeys(names)), note


def _profile():
    return get_profile()


def _dataset():
    """(name, data, fallback note) of the profile's dataset, loaded once per process."""
    if "dataset" not in _LOADED:
        profile = _profile()
        _LOADED["dataset"] = datasets.load_first_available(profile.datasets)
    return _LOADED["dataset"]


@pytest.fixture(scope="session")
def profile():
    current = _profile()
    apply_framework_threads(current.threads, backend_ops.backend_name())
    if current.deterministic:
        backend_ops.make_deterministic(current.seed)
    return current


@pytest.fixture(scope="session")
def dataset(profile):
    """((x_train, y_train), (x_test, y_test)) cut to the profile's subsets, and its name."""
    name, ((x_train, y_train), (x_test, y_test)), note = _dataset()
    if profile.train_subset:
        x_train, y_train = x_train[: profile.train_subset], y_train[: profile.train_subset]
    if profile.test_subset:
        x_test, y_test = x_test[: profile.test_subset], y_test[: profile.test_subset]
    return {"name": name, "note": note, "train": (x_train, y_train), "test": (x_test, y_test)}


@pytest.fixture(scope="session")
def reference(profile):
    return ReferenceWorkload(
        train_batch=profile.train_batch, predict_batch=profile.inference_batch, seed=profile.seed
    )


@pytest.fixture
def batch_of(request, profile):
    """batch_of(n, arch): the first n training images and labels of the profile's dataset, repeated when the
    set is smaller; for a user's model, n examples of its models file (its ``sample_batch``)."""

    def take(count: int, arch: str):
        if not uses_profile_data(arch):
            return implementations.model_set(arch).sample_batch(count, profile.seed)
        images, labels = request.getfixturevalue("dataset")["train"]
        index = np.arange(count) % len(images)
        return images[index], labels[index]

    return take


DEADLINE_ENV = "BENCH_DEADLINE"  # Unix time after which no further benchmark starts (leased machines)


def deadline() -> float | None:
    value = os.environ.get(DEADLINE_ENV)
    return float(value) if value else None


@pytest.fixture(autouse=True)
def within_deadline():
    """Skip, visibly, the benchmarks that would start after the run's deadline; the rest are kept."""
    limit = deadline()
    if limit is not None and time.time() > limit:
        pytest.skip(f"n/a: the run's time budget ({DEADLINE_ENV}) was spent before this benchmark")


def pytest_collection_modifyitems(items):
    """The accuracy runs last: they train for minutes, and a run stopped or out of time keeps every timing."""
    items.sort(key=lambda item: item.path.name == "test_accuracy.py")


def pytest_sessionstart(session):
    _LOADED["checkout"] = environment.checkout()  # what is measured: the tree as the run starts


def pytest_benchmark_update_machine_info(config, machine_info):
    """Record profile, backend, device, dataset, versions, commit and seeds in the results."""
    name, note = dataset_name()
    machine_info["suite"] = environment.describe(_profile(), name, note, _LOADED.get("checkout"))


def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["suite_format"] = 1
