"""The capability matrix: what each API's model can do, found by probing the models themselves.

Nothing here is typed in per API: every cell comes from building the registry's
model and trying the thing (introspection, cloning, saving), or from reading its source.
"""

from __future__ import annotations

import ast
import inspect
import tempfile
import textwrap
import warnings
from pathlib import Path

import keras
import numpy as np

import implementations
from implementations.registry import RESIDUAL_CUSTOM_LAYER, RESIDUAL_NONE

PROBE_BATCH = 2


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:90]}" if text else type(error).__name__


def _images() -> np.ndarray:
    return np.random.default_rng(0).random((PROBE_BATCH, 28, 28, 1), dtype=np.float32)


def _outputs(model) -> np.ndarray:
    with warnings.catch_warnings():  # functional models warn about unnamed positional inputs
        warnings.simplefilter("ignore", UserWarning)
        return keras.ops.convert_to_numpy(model(_images(), training=False))


def residual_topology(arch: str, api: str, model: keras.Model) -> str:
    """How skip connections are expressed: as graph edges, inside call(), via a custom layer, or none."""
    entry = implementations.entry(arch, api)
    if entry.residual == RESIDUAL_NONE:
        return "none in this architecture"
    top_level = {type(layer).__module__.split(".")[0] for layer in model.layers}
    has_add = any(isinstance(layer, keras.layers.Add) for layer in model.layers)
    if has_add:
        return "native: Add layer in the graph"
    if entry.residual == RESIDUAL_CUSTOM_LAYER or top_level - {"keras"}:
        custom = sorted(
            {
                type(layer).__name__
                for layer in model.layers
                if type(layer).__module__.split(".")[0] != "keras"
            }
        )
        if isinstance(model, (keras.Sequential,)) or type(model).__name__ in ("Functional", "Sequential"):
            return f"via custom layer ({', '.join(custom)})"
        return f"native: in Python call() ({', '.join(custom)})"
    return "native"


def summary_shapes(model: keras.Model) -> str:
    """Whether summary() shows a concrete output shape for every layer that holds weights."""
    lines: list[str] = []
    model.summary(
        print_fn=lambda text, line_break=False: lines.append(text), expand_nested=True, line_length=120
    )
    table = [line for line in "\n".join(lines).splitlines() if line.startswith("│")]
    rows = [line for line in table if "(" in line.split("│")[1]]
    unknown = sum(1 for line in table if line.split("│")[2].strip() == "?")
    leaves = [
        layer
        for layer in model._flatten_layers(include_self=False, recursive=True)
        if not layer._layers and layer.weights
    ]
    if unknown == 0 and len(rows) >= len(leaves):
        return "yes"
    parts = []
    if unknown:
        parts.append(f"{unknown} shown as ?")
    if len(rows) < len(leaves):
        parts.append(f"{len(rows)} rows for {len(leaves)} weighted layers (inner layers hidden)")
    return "partly: " + ", ".join(parts)


def graph_introspection(model: keras.Model) -> str:
    """Can a feature extractor be cut out with keras.Model(model.inputs, some_layer.output)?"""
    try:
        inner = model.layers[len(model.layers) // 2]
        extractor = keras.Model(model.inputs, inner.output)
        features = _outputs(extractor)
        return f"yes ({inner.name}: {tuple(features.shape[1:])})"
    except Exception as error:
        return f"no: {_first_line(error)}"


def clone(model: keras.Model) -> str:
    """Does keras.models.clone_model give a model that computes the same with the same weights?"""
    try:
        copy = keras.models.clone_model(model)
        if not copy.weights:
            copy(_images())
        copy.set_weights(model.get_weights())
        same = np.allclose(_outputs(copy), _outputs(model), atol=1e-6)
        return "yes" if same else "no: clone computes different outputs"
    except Exception as error:
        return f"no: {_first_line(error)}"


def save_round_trip(model: keras.Model) -> str:
    """Does a .keras save and a safe_mode load reproduce the outputs?"""
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.keras"
            model.save(path)
            restored = keras.saving.load_model(path, safe_mode=True)
            same = np.allclose(_outputs(restored), _outputs(model), atol=1e-6)
        return "yes" if same else "no: reloaded model computes different outputs"
    except Exception as error:
        return f"no: {_first_line(error)}"


def code_lines(sources) -> int:
    """Lines of code in ``sources``: no blank lines, comments or docstrings."""
    total = 0
    for source in sources:
        text = textwrap.dedent(inspect.getsource(source))
        docstring_lines: set[int] = set()
        for node in ast.walk(ast.parse(text)):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                value = body[0].value
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    docstring_lines.update(range(body[0].lineno, body[0].end_lineno + 1))
        for number, line in enumerate(text.splitlines(), start=1):
            stripped = line.strip()
            if stripped and not stripped.startswith("#") and number not in docstring_lines:
                total += 1
    return total


def probe(arch: str, api: str) -> dict[str, str | int]:
    """Every capability of one (arch, api), as report cells."""
    entry = implementations.entry(arch, api)
    model = implementations.build(arch, api, seed=0)
    return {
        "residual topology": residual_topology(arch, api, model),
        "summary() output shapes": summary_shapes(model),
        "feature extraction via keras.Model(inputs, layer.output)": graph_introspection(model),
        "clone_model": clone(model),
        ".keras save/load (safe_mode)": save_round_trip(model),
        "lines of code": code_lines(entry.sources),
        "code counted": ", ".join(getattr(s, "__name__", str(s)) for s in entry.sources),
    }
