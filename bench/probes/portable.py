"""Exports proven by their outputs: a model exported, loaded back by the runtime that serves it, and run.

A format is "yes" only when the artifact, loaded by its own runtime (``keras.layers.TFSMLayer`` or
``tf.saved_model.load`` for a SavedModel, onnxruntime for ONNX, the LiteRT interpreter for a ``.tflite``,
``torch.export.load`` for a torch program), gives the Keras model's logits within :data:`TOLERANCE` on a
batch of :data:`BATCH` images.  It is probed on a model its builder just made (never called) and on a
called one: a subclassed model has no input shape before its first call.  Where this backend does not
offer a format, or the package Keras needs for it cannot be installed beside the backend, the verdict is
"n/a (...)": a missing package is never a "no".
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
import warnings
from pathlib import Path

import keras
import numpy as np

from bench.probes.distributed import first_line

#: the largest logit difference an exported artifact may show against the Keras model
TOLERANCE = 1e-4
BATCH = 2

#: the verdict rows, by format
ROWS = {
    "tf_saved_model": "export: TF SavedModel",
    "onnx": "export: ONNX",
    "litert": "export: LiteRT",
    "torch": "export: torch.export",
}
#: where Keras 3 offers each format (Model.export)
BACKENDS = {
    "tf_saved_model": ("tensorflow", "jax", "torch"),
    "onnx": ("tensorflow", "jax", "torch"),
    "litert": ("tensorflow", "torch"),
    "torch": ("torch",),
}
#: packages an export needs on a backend beyond what Keras imports when it starts exporting
NEEDS = {("tf_saved_model", "torch"): "torch_xla"}
#: why such a package is absent from the environments that probe
NEEDS_WHY = {
    "torch_xla": "absent here: each torch_xla release is built for one torch version, and none for the "
    "torch these environments pin"
}
_FILE = {"tf_saved_model": "saved", "onnx": "model.onnx", "litert": "model.tflite", "torch": "model.pt2"}


class NotOffered(Exception):
    """The format cannot be probed here: not on this backend, or a package it needs is not installed."""


#: the model set whose inputs the probes feed (:func:`use_set`); None: the profile's 28x28x1 images
_PROBED: list = [None]


def use_set(model_set) -> None:
    """Probe with the inputs and labels of ``model_set`` (an :class:`implementations.ModelSet`) from now on."""
    _PROBED[0] = model_set


def images(count: int = BATCH):
    """The probes' inputs: ``count`` examples of the probed set (an array, or a list or dict of arrays)."""
    if _PROBED[0] is not None:
        return _PROBED[0].sample_inputs(count)
    return np.random.default_rng(0).random((count, 28, 28, 1), dtype=np.float32)


def labels(count: int = BATCH) -> np.ndarray:
    """Labels for ``images(count)``, as the probed set's loss takes them."""
    if _PROBED[0] is not None:
        return _PROBED[0].sample_batch(count)[1]
    return np.arange(count) % 10


def flat(x) -> list[np.ndarray]:
    """The arrays of one batch of inputs, in the order a runtime's inputs take them."""
    if isinstance(x, dict):
        return list(x.values())
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def joined(outputs) -> np.ndarray:
    """One (batch, n) array of a model's outputs, however many it has: what probes compare."""
    parts = [np.asarray(keras.ops.convert_to_numpy(part)) for part in keras.tree.flatten(outputs)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate([part.reshape(len(part), -1) for part in parts], axis=1)


def logits(model, batch) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return joined(model(batch, training=False))


def _saved_model_runner(path: Path):
    if keras.backend.backend() == "tensorflow":
        layer = keras.layers.TFSMLayer(str(path), call_endpoint="serve")
        return "TFSMLayer", lambda batch: keras.ops.convert_to_numpy(layer(batch))
    try:
        import tensorflow as tf
    except ImportError as error:
        raise NotOffered("tensorflow not installed to load the SavedModel") from error
    loaded = tf.saved_model.load(str(path))
    return "tf.saved_model.load", lambda batch: joined(loaded.serve(*(tf.constant(a) for a in flat(batch))))


def _onnx_runner(path: Path):
    try:
        import onnxruntime
    except ImportError as error:
        raise NotOffered("onnxruntime not installed") from error
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [entry.name for entry in session.get_inputs()]
    return "onnxruntime", lambda batch: joined(session.run(None, dict(zip(names, flat(batch), strict=True))))


def _litert_runner(path: Path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        try:
            from tensorflow.lite import Interpreter
        except ImportError as error:
            raise NotOffered("no LiteRT interpreter installed (ai-edge-litert)") from error

    def run(batch: np.ndarray) -> np.ndarray:
        interpreter = Interpreter(model_path=str(path))
        entries = interpreter.get_input_details()
        arrays = _matched(entries, flat(batch))
        for entry, array in zip(entries, arrays, strict=True):
            interpreter.resize_tensor_input(entry["index"], array.shape)
        interpreter.allocate_tensors()
        for entry, array in zip(entries, arrays, strict=True):
            interpreter.set_tensor(entry["index"], array.astype(entry["dtype"]))
        interpreter.invoke()
        return joined([interpreter.get_tensor(out["index"]) for out in interpreter.get_output_details()])

    return "the LiteRT interpreter", run


def _matched(entries: list[dict], arrays: list[np.ndarray]) -> list[np.ndarray]:
    """``arrays`` in the order of a LiteRT model's inputs, which need not be the model's: each input takes
    the first array left whose rank and trailing dimensions it has."""
    left, ordered = list(arrays), []
    for entry in entries:
        shape = tuple(entry["shape"][1:])
        index = next((i for i, a in enumerate(left) if a.ndim == len(shape) + 1 and a.shape[1:] == shape), 0)
        ordered.append(left.pop(index))
    return ordered


def _torch_runner(path: Path):
    import torch

    program = torch.export.load(str(path)).module()
    return "torch.export.load", lambda batch: joined(
        [out.detach().cpu().numpy() for out in keras.tree.flatten(program(*map(torch.from_numpy, flat(batch))))]
    )


RUNNERS = {"tf_saved_model": _saved_model_runner, "onnx": _onnx_runner, "litert": _litert_runner,
           "torch": _torch_runner}  # fmt: skip


def _missing_package(error: Exception) -> str | None:
    """ "PACKAGE not installed" where a failed export asked for a package, else None."""
    text = str(error)
    asked = re.search(r"pip install ([A-Za-z0-9_.\-\[\]]+)", text) or re.search(
        r"`([A-Za-z0-9_.\-]+)` (?:package|module)", text
    )
    if isinstance(error, ImportError) or asked:
        name = asked.group(1) if asked else getattr(error, "name", None) or first_line(error)
        return f"{name.strip('`.')} not installed"
    return None


def exported_and_run(model: keras.Model, fmt: str) -> str:
    """Export ``model``, load the artifact with its runtime, run it: "yes (...)" or "no: why"; NotOffered."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / _FILE[fmt]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model.export(str(target), format=fmt, verbose=False)
        except Exception as error:
            missing = _missing_package(error)
            if missing:
                raise NotOffered(missing) from error
            return f"no: {first_line(error)}"
        expected = logits(model, images())  # after the export: a never-called model stays so until then
        how, run = RUNNERS[fmt](target)
        try:
            gap = float(np.abs(run(images()) - expected).max())
        except Exception as error:
            try:  # exported for one batch size only?
                single = float(np.abs(run(images(1)) - logits(model, images(1))).max())
            except Exception:
                return f"no: the artifact does not run in {how}: {first_line(error)}"
            if single <= TOLERANCE:
                return f"partly: runs in {how} at batch 1 only (the batch size is fixed at export)"
            return f"no: outputs differ by {single:.2g} in {how}"
    if gap > TOLERANCE:
        return f"no: outputs differ by {gap:.2g} in {how}"
    return f"yes (run in {how}, logits within {TOLERANCE:g})"


def export_verdict(fresh: keras.Model, called: keras.Model, fmt: str) -> str:
    """The format's verdict on a never-called model and a called one of the same builder."""
    backend = keras.backend.backend()
    if backend not in BACKENDS[fmt]:
        offered = ", ".join(BACKENDS[fmt])
        return f"n/a (Keras exports {fmt} from the {offered} backend{'s' if len(BACKENDS[fmt]) > 1 else ''})"
    needed = NEEDS.get((fmt, backend))
    if needed and importlib.util.find_spec(needed) is None:
        return f"n/a (Keras exports {fmt} from {backend} through {needed}, {NEEDS_WHY[needed]})"
    logits(called, images())  # whatever else was probed on it first
    verdicts = {}
    for state, model in (("never called", fresh), ("called", called)):
        try:
            verdicts[state] = exported_and_run(model, fmt)
        except NotOffered as why:
            return f"n/a ({why})"
    if verdicts["never called"] == verdicts["called"]:
        return verdicts["called"]
    if verdicts["called"].startswith("yes"):
        return f"only after a call ({verdicts['called'][5:-1]}; never called: {verdicts['never called']})"
    return verdicts["called"]
