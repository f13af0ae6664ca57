"""The dataset loader on real offline data and on small broken files written here."""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bench.run import datasets
from bench.run.datasets import IDX_FILES, DatasetError, load


def write_idx(path: Path, array: np.ndarray, *, magic: int | None = None, dims=None) -> None:
    """Write ``array`` (uint8) as a gzipped IDX file, optionally lying about magic or dimensions."""
    ndim = array.ndim
    magic = (0x0800 | ndim) if magic is None else magic
    dims = array.shape if dims is None else dims
    header = struct.pack(">I", magic) + struct.pack(f">{len(dims)}I", *dims)
    with gzip.open(path, "wb") as stream:
        stream.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def idx_dir(tmp_path):
    """A complete, valid four-file IDX dataset: 12 train and 6 test images."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 12), ("test", 6)):
        images_name, labels_name = IDX_FILES[split]
        write_idx(tmp_path / images_name, rng.integers(0, 256, (count, 28, 28)))
        write_idx(tmp_path / labels_name, rng.integers(0, 10, count))
    return tmp_path


def assert_well_formed(data, train_count, test_count):
    (x_train, y_train), (x_test, y_test) = data
    assert x_train.shape == (train_count, 28, 28, 1) and x_test.shape == (test_count, 28, 28, 1)
    assert x_train.dtype == np.float32 and 0.0 <= x_train.min() and x_train.max() <= 1.0
    assert y_train.shape == (train_count,) and y_test.shape == (test_count,)
    assert np.issubdtype(y_train.dtype, np.integer) and set(np.unique(y_train)) <= set(range(10))


def test_idx_directory_loads(idx_dir):
    data = load("fashion-mnist", path=idx_dir)
    assert_well_formed(data, 12, 6)


def test_mnist_5k_is_real_stratified_and_deterministic():
    data = load("mnist-5k")
    assert_well_formed(data, 4000, 1000)
    (x_train, y_train), (x_test, y_test) = data
    assert np.bincount(y_test).tolist() == [100] * 10
    assert np.bincount(y_train).tolist() == [400] * 10
    (again, _), _ = load("mnist-5k")
    assert np.array_equal(again, x_train)
    # real digits: mostly dark background with bright strokes, unlike uniform noise
    assert 0.05 < x_train.mean() < 0.25


@pytest.mark.skipif(
    not datasets.FASHION_MNIST_DIR.is_dir(), reason="Debian's dataset-fashion-mnist is not installed"
)
def test_full_fashion_mnist_from_debian_package():
    data = load("fashion-mnist")
    assert_well_formed(data, 60000, 10000)
    assert np.bincount(data[1][1]).tolist() == [1000] * 10


def test_synthetic_is_seeded():
    first, second = load("synthetic", seed=3), load("synthetic", seed=3)
    assert np.array_equal(first[0][0], second[0][0])
    assert not np.array_equal(first[0][0], load("synthetic", seed=4)[0][0])


def test_unknown_dataset():
    with pytest.raises(DatasetError, match="valid datasets: mnist, mnist-5k"):
        load("cifar")


def test_mnist_failure_is_explained(monkeypatch):
    import keras

    def offline(**kwargs):
        raise OSError("Name or service not known")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", offline)
    with pytest.raises(DatasetError, match="mnist: keras.datasets.mnist could not download.*mnist-5k"):
        load("mnist")


def _break_missing(directory):
    (directory / IDX_FILES["test"][1]).unlink()
    return IDX_FILES["test"][1], "file not found"


def _break_truncated(directory):
    path = directory / IDX_FILES["train"][0]
    path.write_bytes(path.read_bytes()[:-40])
    return IDX_FILES["train"][0], "not a complete gzip file"


def _break_magic(directory):
    write_idx(directory / IDX_FILES["train"][0], np.zeros((12, 28, 28)), magic=0x0803 + 0x100)
    return IDX_FILES["train"][0], "magic number"


def _break_dimensions(directory):
    write_idx(directory / IDX_FILES["train"][0], np.zeros((12, 27, 29)))
    return IDX_FILES["train"][0], "27x29, expected 28x28"


def _break_length(directory):
    write_idx(directory / IDX_FILES["train"][0], np.zeros((12, 28, 28)), dims=(13, 28, 28))
    return IDX_FILES["train"][0], "header promises"


def _break_counts(directory):
    write_idx(directory / IDX_FILES["test"][1], np.zeros(5))
    return IDX_FILES["test"][1], "6 images but .* 5 labels"


def _break_label_range(directory):
    write_idx(directory / IDX_FILES["train"][1], np.full(12, 10))
    return IDX_FILES["train"][1], "label 10 out of range"


BREAKAGES = [
    _break_missing,
    _break_truncated,
    _break_magic,
    _break_dimensions,
    _break_length,
    _break_counts,
    _break_label_range,
]


@pytest.mark.parametrize("breakage", BREAKAGES, ids=lambda f: f.__name__.removeprefix("_break_"))
def test_broken_files_name_file_and_problem(idx_dir, breakage):
    file_name, problem = breakage(idx_dir)
    with pytest.raises(DatasetError, match=problem) as caught:
        load("fashion-mnist", path=idx_dir)
    assert file_name in str(caught.value)


def test_command_line_gives_one_line_and_nonzero_exit(idx_dir):
    _break_truncated(idx_dir)
    result = subprocess.run(
        [sys.executable, "-m", "bench", "data", "fashion-mnist", "--path", str(idx_dir)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "not a complete gzip file" in lines[0]


def test_command_line_describes_good_data(idx_dir):
    result = subprocess.run(
        [sys.executable, "-m", "bench", "data", "fashion-mnist", "--path", str(idx_dir)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "train 12" in result.stdout and "test 6" in result.stdout
