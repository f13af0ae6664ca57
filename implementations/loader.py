"""The one way a model comes in: a *models file* (plain Keras) loaded into a :class:`ModelSet`.

A models file is a Python file (given by path) or an importable module (given by name) that defines at
least one builder, a function named after an API (:data:`bench.core.kinds.APIS`) returning a new
``keras.Model``.  It may also define ``sample_batch(batch_size) -> (x, y)``, ``data() -> ((x_train,
y_train), (x_test, y_test))``, ``LOSS`` and ``NAME``; the built-in architectures in
:mod:`implementations.archs` are models files too, with ``DATASET = "profile"`` (the profile's images
serve as their data).  docs/own-models.md is the user's contract; everything a file gets wrong ends in
one :class:`ModelsFileError` that names the file and what to fix.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import keras
import numpy as np

from bench.core.kinds import APIS

#: the DATASET value of a models file whose models take the profile's 28x28x1 images and 10 classes
PROFILE_DATASET = "profile"
#: a set's name becomes part of every benchmark's name (``test_train_throughput[NAME-api]``)
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
DEFAULT_LOSS = "sparse_categorical_crossentropy from logits"


class ModelsFileError(ValueError):
    """A models file that cannot be used, with what to fix."""


@dataclass(frozen=True)
class ModelSet:
    """One models file: its builders by API and how to feed, train and judge its models."""

    name: str
    origin: str  # the path or module name it was given as
    module: ModuleType
    builders: dict[str, Callable]
    loss: object = None
    dataset: str | None = None
    data: Callable | None = None
    sampler: Callable | None = None
    residual: dict[str, str] = field(default_factory=dict)
    uses: dict[str, tuple] = field(default_factory=dict)

    @property
    def apis(self) -> tuple[str, ...]:
        """The APIs the file gives, in report order."""
        return tuple(api for api in APIS if api in self.builders)

    @property
    def partner(self) -> str:
        """The API every other is paired with and compared against: Functional, else the first given."""
        return "functional" if "functional" in self.builders else self.apis[0]

    @property
    def folder(self) -> str | None:
        """The folder a fresh process must have on its path to import the file's classes (None: importable)."""
        path = getattr(self.module, "__file__", None)
        return str(Path(path).parent) if path and self.origin.endswith(".py") else None

    def make(self, api: str, seed: int | None = 0, **options) -> keras.Model:
        """A new model from the ``api`` builder (not necessarily built); ModelsFileError naming the builder
        where it raises or returns something else than a ``keras.Model``.

        A builder that takes ``seed`` gets it; otherwise Keras' global generator is seeded first, so two
        builds with one seed start from the same weights either way."""
        builder = self.builders[api]
        accepted = inspect.signature(builder).parameters
        kwargs = {k: v for k, v in {"seed": seed, **options}.items() if k in accepted}
        if "seed" not in accepted and seed is not None:
            keras.utils.set_random_seed(seed)
        try:
            model = builder(**kwargs)
        except Exception as error:
            raise ModelsFileError(
                f"{self.origin}: {api}() raised {type(error).__name__}: {_first_line(error)}"
            ) from None
        if not isinstance(model, keras.Model):
            raise ModelsFileError(
                f"{self.origin}: {api}() returned {type(model).__name__}, not a keras.Model"
            )
        return model

    def build(self, api: str, seed: int | None = 0, **options) -> keras.Model:
        """:meth:`make`, with the weights created (a subclassed model is called once, in inference mode)."""
        model = self.make(api, seed, **options)
        if not model.weights:
            x = self.sample_inputs(1) if not options else _zeros_for(options)
            try:
                model(x, training=False)
            except Exception as error:
                raise ModelsFileError(
                    f"{self.origin}: the {api} model refuses the sample inputs: {_first_line(error)}"
                    f"{'' if self.sampler else '; define sample_batch(batch_size) -> (x, y)'}"
                ) from None
        return model

    def sample_batch(self, count: int, seed: int = 0) -> tuple[object, object]:
        """(x, y) of ``count`` examples: the file's ``sample_batch``, else drawn from its models' inputs."""
        if self.sampler is not None:
            try:
                x, y = self.sampler(count)
            except Exception as error:
                raise ModelsFileError(
                    f"{self.origin}: sample_batch({count}) raised {type(error).__name__}: {_first_line(error)}"
                ) from None
            return _as_arrays(x), _as_arrays(y)  # several outputs: a tuple, list or dict of labels
        return self._derived_batch(count, seed)

    def training_loss(self):
        """The file's ``LOSS`` (anything ``Model.compile`` takes), else sparse categorical cross-entropy
        from logits, the tutorial's."""
        if self.loss is not None:
            return self.loss
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    @functools.cached_property
    def accuracy_metrics(self):
        """``metrics`` for ``Model.compile``: accuracy on each output whose labels are class ids (integers), in
        the structure of ``sample_batch``'s labels (a list or dict for several outputs); None where no output
        has class ids (a regression: accuracy does not apply).  Worked out once per set: a compile in a
        timed first step never calls the file's ``sample_batch``."""
        if self.sampler is None:
            return ["accuracy"]  # derived labels: class ids of one output
        labels = self.sample_batch(2)[1]

        def metric(values):
            return ["accuracy"] if np.issubdtype(np.asarray(values).dtype, np.integer) else []

        if isinstance(labels, dict):
            found = {key: metric(values) for key, values in labels.items()}
        elif isinstance(labels, list):
            found = [metric(values) for values in labels]
        else:
            return metric(labels) or None
        return found if any(found.values() if isinstance(found, dict) else found) else None

    def sample_inputs(self, count: int, seed: int = 0):
        return self.sample_batch(count, seed)[0]

    def _derived_batch(self, count: int, seed: int):
        if self.dataset == PROFILE_DATASET:
            rng = np.random.default_rng(seed)
            return rng.random((count, 28, 28, 1), dtype=np.float32), rng.integers(0, 10, count)
        for api in (api for api in self.apis if api != "subclassing"):
            model = self.make(api, 0)
            if _declared_inputs(model):  # a Sequential without keras.Input declares none
                return derived_batch(model, count, seed, self.origin)
        raise ModelsFileError(
            f"{self.origin}: no model of the file declares its inputs (a keras.Input), so they cannot be read "
            "from it; define sample_batch(batch_size) -> (x, y)"
        )

    def digest(self) -> str:
        """sha256 (12 hex digits) of the file's source: what a history point of this set measured."""
        try:
            source = inspect.getsource(self.module)
        except (OSError, TypeError):
            source = self.origin
        return hashlib.sha256(source.encode()).hexdigest()[:12]


def derived_batch(model: keras.Model, count: int, seed: int, origin: str):
    """Normal float inputs shaped like ``model``'s ``keras.Input``s, and class ids from its output width."""
    rng = np.random.default_rng(seed)
    inputs = []
    for tensor in model.inputs:
        shape = tuple(tensor.shape)[1:]
        dtype = str(keras.backend.standardize_dtype(tensor.dtype))
        if not dtype.startswith("float") or any(dim is None for dim in shape):
            why = "integer inputs" if not dtype.startswith("float") else f"an input of unknown size {shape}"
            raise ModelsFileError(
                f"{origin}: the model has {why}, which cannot be drawn at random; "
                "define sample_batch(batch_size) -> (x, y)"
            )
        inputs.append(rng.standard_normal((count, *shape)).astype(dtype))
    outputs = model.outputs
    width = tuple(outputs[0].shape)[-1] if len(outputs) == 1 else None
    if not width:
        raise ModelsFileError(
            f"{origin}: labels cannot be derived from {len(outputs)} outputs; "
            "define sample_batch(batch_size) -> (x, y)"
        )
    x = inputs[0] if len(inputs) == 1 else inputs
    return x, rng.integers(0, int(width), count)


def _declared_inputs(model: keras.Model) -> list:
    """The model's symbolic inputs, or none (a subclass, or a Sequential built without a keras.Input)."""
    try:
        return list(model.inputs or [])
    except (AttributeError, ValueError):
        return []


def _as_arrays(x):
    if isinstance(x, dict):
        return {key: np.asarray(value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return [np.asarray(value) for value in x]
    return np.asarray(x)


def _zeros_for(options: dict):
    return np.zeros((1, *options.get("input_shape", (28, 28, 1))), dtype="float32")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


def _import(spec: str) -> ModuleType:
    """The module of a path (``.py``) or an importable name; ModelsFileError with the file and line."""
    looks_like_path = spec.endswith(".py") or "/" in spec or "\\" in spec
    if looks_like_path:
        path = Path(spec).expanduser().resolve()
        if not path.is_file():
            raise ModelsFileError(f"models file {spec} does not exist")
        name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules else (
            f"bench_models_{hashlib.sha256(str(path).encode()).hexdigest()[:10]}"
        )
        spec_obj = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec_obj)
        sys.modules[name] = module  # the classes it defines pickle and reload by this name
        if str(path.parent) not in sys.path:
            sys.path.append(str(path.parent))  # its neighbours import as the user's own imports would
        try:
            spec_obj.loader.exec_module(module)
        except BaseException as error:
            del sys.modules[name]
            raise ModelsFileError(_import_failure(spec, str(path), error)) from None
        return module
    try:
        return importlib.import_module(spec)
    except ModuleNotFoundError as error:
        if error.name and spec.startswith(error.name):
            raise ModelsFileError(f"models module {spec} cannot be found (no file, no importable module)") from None
        raise ModelsFileError(_import_failure(spec, None, error)) from None
    except BaseException as error:
        raise ModelsFileError(_import_failure(spec, None, error)) from None


def _import_failure(spec: str, path: str | None, error: BaseException) -> str:
    """'FILE:LINE: Type: message' of an import that failed, at the file's own line where there is one."""
    if isinstance(error, SyntaxError):
        return f"{error.filename or spec}:{error.lineno}: SyntaxError: {error.msg}"
    frames = traceback.extract_tb(error.__traceback__)
    own = [f for f in frames if path and Path(f.filename).resolve() == Path(path)] or frames[-1:]
    where = f"{own[-1].filename}:{own[-1].lineno}" if own else spec
    return f"{where}: {type(error).__name__}: {_first_line(error)} (while importing models file {spec})"


def load(spec: str) -> ModelSet:
    """Load the models file ``spec`` (a path or a module name) into a :class:`ModelSet`."""
    module = _import(str(spec))
    builders = {api: getattr(module, api) for api in APIS if callable(getattr(module, api, None))}
    if not builders:
        raise ModelsFileError(
            f"{spec}: defines no builder; define at least one of {', '.join(f'{api}()' for api in APIS)}"
        )
    name = getattr(module, "NAME", None)
    if name is None:
        stem = Path(str(spec)).stem if str(spec).endswith(".py") else module.__name__.rsplit(".", 1)[-1]
        name = re.sub(r"\W", "_", stem)
        name = name if name[:1].isalpha() else f"m_{name}"
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise ModelsFileError(
            f"{spec}: NAME {name!r} is not a name a benchmark can carry "
            "(a letter, then letters, digits or _, at most 64)"
        )
    residual = getattr(module, "RESIDUAL", {})
    data = getattr(module, "data", None)
    sampler = getattr(module, "sample_batch", None)
    return ModelSet(
        name=name,
        origin=str(spec),
        module=module,
        builders=builders,
        loss=getattr(module, "LOSS", None),
        dataset=getattr(module, "DATASET", None),
        data=data if callable(data) else None,
        sampler=sampler if callable(sampler) else None,
        residual=residual if isinstance(residual, dict) else dict.fromkeys(builders, residual),
        uses=dict(getattr(module, "USES", {}) or {}),
    )
