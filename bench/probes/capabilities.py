"""The capability matrix: what each API's model can do, found by probing the models themselves.

Nothing here is typed in per API: every cell comes from building the model set's
model (the probed inputs are the set's: :func:`bench.probes.portable.use_set`) and trying the thing (introspection, cloning, saving, loading in a fresh
process, exporting, quantizing, distributing), or from reading its source.  The
benchmark run probes on its own backend and stores the verdicts in the results file
(``test_capabilities``), so a report shows each backend's own answers.
"""

from __future__ import annotations

import ast
import inspect
import json
import os
import pickle
import subprocess
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import keras
import numpy as np

import implementations
from bench.core.capability_names import (
    BUILD_LOAD_WEIGHTS,
    FREEZE,
    FRESH_FILE_ONLY,
    FRESH_WITH_MODULES,
    GET_LAYER_REACH,
    LORA,
    MODEL_PARALLEL,
    NESTED_MARKER,
    QUANTIZATION_MODES,
    TORCH_JIT,
    WEIGHTS_FROM_FUNCTIONAL,
    WRAPPED_FEATURES,
    quantized_load_row,
    quantized_row,
)
from bench.core.paths import PROJECT_ROOT
from bench.probes import portable, transfer
from bench.probes import torch_jit as torch_jit_probe
from bench.probes.distributed import first_line


def _outputs(model) -> np.ndarray:
    """The model's logits on the probes' images (:func:`bench.probes.portable.images`)."""
    return portable.logits(model, portable.images())


#: a models file's RESIDUAL values (one, or one per API) that this probe reads
RESIDUAL_NONE = "none"
RESIDUAL_CUSTOM_LAYER = "via custom layer"
MERGES = (keras.layers.Add, keras.layers.Concatenate, keras.layers.Multiply, keras.layers.Average,
          keras.layers.Subtract, keras.layers.Maximum, keras.layers.Minimum)  # fmt: skip


def residual_topology(arch: str, api: str, model: keras.Model) -> str:
    """How skip connections are expressed: as graph edges, inside call(), via a custom layer, or none.

    A models file may say (``RESIDUAL``); otherwise a merge layer in the graph is an edge, and a model
    or layer of the user's own classes may join branches in its ``call()``."""
    declared = implementations.model_set(arch).residual.get(api)
    if declared == RESIDUAL_NONE:
        return "none in this architecture"
    top_level = {type(layer).__module__.split(".")[0] for layer in model.layers}
    has_add = any(isinstance(layer, MERGES) for layer in model.layers)
    if has_add:
        return "native: merge layer in the graph"
    if declared == RESIDUAL_CUSTOM_LAYER or top_level - {"keras"}:
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
    if declared is None and type(model).__module__.split(".")[0] != "keras" and not _graph_of(model):
        return "not declared (in Python call(), if any)"
    if declared is None and _graph_of(model) and len(model.inputs) == 1 and len(model.outputs) == 1:
        merged = any(isinstance(layer, MERGES) for layer in model._flatten_layers(include_self=False))
        return "native: merge layer inside a nested layer" if merged else "none in this architecture"
    return "native" if declared else "none found in the graph"


def _graph_of(model: keras.Model) -> bool:
    """Whether ``model`` is a graph of layers (Sequential, Functional or a Functional subclass)."""
    return isinstance(model, keras.Sequential) or bool(getattr(model, "_nodes_by_depth", None) is not None
                                                        and getattr(model, "inputs", None))


def summary_shapes(model: keras.Model) -> str:
    """Whether summary() shows a concrete output shape for every layer that holds weights."""
    lines: list[str] = []
    model.summary(
        print_fn=lambda text, line_break=False: lines.append(text), expand_nested=True, line_length=120
    )
    table = [line for line in "\n".join(lines).splitlines() if line.startswith("│")]
    rows = [line for line in table if "(" in line.split("│")[1]]
    unknown = sum(1 for line in table if line.split("│")[2].strip() == "?")
    leaves = transfer.weighted_leaves(model)
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
        return f"no: {first_line(error)}"


def _symbolic_inputs(x):
    """``keras.Input``s shaped like one batch of the probed inputs, in the same structure."""
    return keras.tree.map_structure(lambda a: keras.Input(shape=a.shape[1:], dtype=str(a.dtype)), x)


def wrapped_features(model: keras.Model) -> str:
    """What users do to reach a subclassed model's inner layers: wrap it, ``keras.Model(inputs,
    model.call(inputs))``, check the wrapper computes the model's outputs, then cut a feature extractor."""
    x = portable.images()
    try:
        inputs = _symbolic_inputs(x)
        wrapper = keras.Model(inputs, model.call(inputs))
        gap = float(np.abs(portable.logits(wrapper, x) - _outputs(model)).max())
    except Exception as error:
        return f"no: {first_line(error)}"
    if gap > 1e-5:
        return f"no: the wrapper's outputs differ by {gap:.2g}"
    try:
        chain = _chain(wrapper.outputs[0])
        inner = chain[len(chain) // 2]  # a tensor of this graph: a layer's .output may name another of its calls
        features = _outputs(keras.Model(wrapper.inputs, inner))
        return f"yes ({inner._keras_history.operation.name}: {tuple(features.shape[1:])})"
    except Exception as error:
        return f"no: {first_line(error)}"


def _chain(tensor) -> list:
    """The tensors of a graph from an input to ``tensor``, following each operation's first input."""
    chain = [tensor]
    for _ in range(10_000):
        operation, node_index, _ = tensor._keras_history
        inputs = operation._inbound_nodes[node_index].input_tensors
        if not inputs:
            break
        tensor = inputs[0]
        chain.append(tensor)
    return chain[::-1]


#: rows whose ◐ or ✗ nested custom layers cause, whatever API holds them; a verdict caused so says
#: NESTED_CAUSE, established by :func:`blocks_control` for a subclassed model
NESTING_ROWS = ("summary() output shapes", GET_LAYER_REACH, "model_to_dot (what plot_model draws)",
                "clone_model with clone_function (model surgery)")  # fmt: skip
NESTED_CAUSE = NESTED_MARKER


def blocks_control(model: keras.Model) -> keras.Model | None:
    """The control of a subclassed ``model``: a Functional model chaining its top-level layers in order, kept
    where it computes what ``model`` computes (None otherwise).  A ✗ or ◐ it shares comes from the custom
    layers, not from subclassing."""
    x = portable.images()
    try:
        inputs = _symbolic_inputs(x)
        h = inputs
        for layer in model.layers:
            h = layer(h)
        control = keras.Model(inputs, h)
        return control if np.allclose(portable.logits(control, x), _outputs(model), atol=1e-5) else None
    except Exception:
        return None


def _has_custom_layers(model: keras.Model) -> bool:
    return any(type(layer).__module__.split(".")[0] != "keras" for layer in model._flatten_layers(include_self=False))


def causes_told_apart(model: keras.Model, row: dict[str, str]) -> None:
    """Mark in ``row`` the ✗ and ◐ of :data:`NESTING_ROWS` that nested custom layers cause: in a graph
    model that holds custom layers, or in a subclassed one whose control shows them too."""
    if not _has_custom_layers(model):
        return
    graph = _graph_of(model)
    control = None if graph else blocks_control(model)
    probes = {"summary() output shapes": summary_shapes, GET_LAYER_REACH: transfer.get_layer_reach,
              "model_to_dot (what plot_model draws)": graph_nodes,
              "clone_model with clone_function (model surgery)": clone_with_function}  # fmt: skip
    for name in NESTING_ROWS:
        verdict = str(row.get(name, ""))
        if not verdict.startswith(("no", "partly")):
            continue
        if graph:
            row[name] = f"{verdict} [{NESTED_CAUSE}, in this graph]"
        elif control is not None and _rank(probes[name](control)) <= _rank(verdict):
            row[name] = f"{verdict} [{NESTED_CAUSE}: a Functional model of the same blocks shows it too]"


def _rank(verdict: str) -> int:
    """yes 2, partly 1, no 0: a control that does better than the model puts the cause in its API."""
    return 2 if verdict.startswith("yes") else 1 if verdict.startswith("partly") else 0


def _clone_differs(model: keras.Model, **options) -> str | None:
    """Clone ``model`` (clone_model ``options``), give it the same weights: None if it computes the same,
    otherwise the "no: ..." verdict."""
    try:
        copy = keras.models.clone_model(model, **options)
        if not copy.weights:
            copy(portable.images())
        copy.set_weights(model.get_weights())
        same = np.allclose(_outputs(copy), _outputs(model), atol=1e-6)
        return None if same else "no: the clone computes different outputs"
    except Exception as error:
        return f"no: {first_line(error)}"


def clone(model: keras.Model) -> str:
    """Does keras.models.clone_model give a model that computes the same with the same weights?"""
    return _clone_differs(model) or "yes"


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
        return f"no: {first_line(error)}"


def code_of(arch: str, api: str, model: keras.Model) -> tuple:
    """What counts as the code of ``api``: its builder, the helpers the file lists for it (``USES``), the
    classes of the model and its layers that are not Keras' own, and every function of the models file that
    these call by name, however deep (a file need not list its private helpers)."""
    chosen = implementations.model_set(arch)
    classes = [type(model), *(type(layer) for layer in model._flatten_layers(include_self=False))]
    own = [c for c in dict.fromkeys(classes) if c.__module__.split(".")[0] != "keras"]
    sources = [chosen.builders[api], *chosen.uses.get(api, ()), *own]
    return tuple(dict.fromkeys([*sources, *_helpers(sources, chosen.module)]))


def _code_objects(source) -> list:
    """The code objects of a function, or of every function a class defines, nested ones included."""
    functions = [source] if inspect.isfunction(source) else [
        f for f in vars(source).values() if inspect.isfunction(f)] if inspect.isclass(source) else []
    pending, found = [f.__code__ for f in functions], []
    while pending:
        code = pending.pop()
        found.append(code)
        pending += [const for const in code.co_consts if inspect.iscode(const)]
    return found


def _helpers(sources: list, module) -> list:
    """The functions of ``module`` that ``sources`` reference by name, and the ones those reference."""
    found: list = []
    pending = list(sources)
    while pending:
        for code in _code_objects(pending.pop()):
            for name in code.co_names:
                target = vars(module).get(name)
                if (inspect.isfunction(target) and target.__module__ == module.__name__ and target not in found
                        and target not in sources):  # fmt: skip
                    found.append(target)
                    pending.append(target)
    return found


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


def clone_with_function(model: keras.Model) -> str:
    """Model surgery: does clone_model(model, clone_function=...) reach every weighted layer?"""
    seen = []

    def rebuild(layer):
        seen.append(layer)
        return layer.__class__.from_config(layer.get_config())

    failed = _clone_differs(model, clone_function=rebuild)
    if failed:
        return failed
    leaves = len(transfer.weighted_leaves(model))
    reached = sum(1 for layer in seen if not layer._layers and layer.weights)
    if reached < leaves:
        return f"partly: clone_function sees {reached} of {leaves} weighted layers (others in custom layers)"
    return f"yes ({reached} weighted layers)"


def build_then_load_weights(arch: str, api: str, model: keras.Model) -> str:
    """The Keras 2 habit: a freshly made model, ``build(shape)``, then ``load_weights`` — does it load?"""
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.weights.h5"
            model.save_weights(path)
            fresh = implementations.model_set(arch).make(api, 1)  # other initial weights
            shapes = [(None, *np.shape(array)[1:]) for array in portable.flat(portable.images())]
            fresh.build(shapes[0] if len(shapes) == 1 else shapes)
            created = len(fresh.weights)
            fresh.load_weights(path)
        if np.allclose(_outputs(fresh), _outputs(model), atol=1e-6):
            return "yes"
        return f"no: build() left {created} weights, load_weights loaded nothing it could use, outputs differ"
    except Exception as error:
        return f"no: {first_line(error)}"


def exports(arch: str, api: str, model: keras.Model) -> dict[str, str]:
    """Every export format, each exported, loaded back by its runtime and run (:mod:`bench.probes.portable`),
    on a model its builder just made and on ``model`` (called)."""
    verdicts = {}
    for fmt, row in portable.ROWS.items():
        fresh = implementations.model_set(arch).make(api, 0)
        verdicts[row] = portable.export_verdict(fresh, model, fmt)
    return verdicts


def graph_nodes(model: keras.Model) -> str:
    """What plot_model would draw: the nodes of keras.utils.model_to_dot(expand_nested=True), no graphviz."""
    try:
        dot = keras.utils.model_to_dot(model, expand_nested=True)
    except Exception as error:
        return f"no: {first_line(error)}"

    def count(graph) -> int:
        own = [node for node in graph.get_nodes() if node.get_name() not in ("node", "edge", "graph")]
        return len(own) + sum(count(sub) for sub in graph.get_subgraph_list())

    nodes, leaves = count(dot), len(transfer.weighted_leaves(model))
    if nodes < leaves:
        return f"partly: {nodes} node(s) for {leaves} weighted layers"
    return f"yes ({nodes} nodes)"


def dtype_policies(arch: str, api: str, model: keras.Model) -> tuple[str, str]:
    """(global, per model): how many weighted layers compute in float16 under mixed_float16."""
    leaves = transfer.weighted_leaves(model)
    previous = keras.config.dtype_policy()
    try:
        keras.config.set_dtype_policy("mixed_float16")
        mixed = implementations.build(arch, api, seed=0)
    finally:
        keras.config.set_dtype_policy(previous)
    under_global = sum(layer.compute_dtype == "float16" for layer in transfer.weighted_leaves(mixed))
    try:
        copy = implementations.build(arch, api, seed=0)
        copy.dtype_policy = "mixed_float16"
        per_model = sum(layer.compute_dtype == "float16" for layer in transfer.weighted_leaves(copy))
        per_model_text = (
            "yes"
            if per_model == len(leaves)
            else f"no: {per_model} of {len(leaves)} layers follow the model's"
        )
    except Exception as error:
        per_model_text = f"no: {first_line(error)}"
    global_text = (
        "yes" if under_global == len(leaves) else f"partly: {under_global} of {len(leaves)} layers float16"
    )
    return global_text, per_model_text


def eager_latency(model: keras.Model) -> str:
    """Batch-1 ``model(x)`` (eager, uncompiled) beside the compiled ``predict_on_batch``: median ms."""
    image = portable.images(1)
    model.compile(jit_compile=False)

    def call_eager():
        return portable.joined(model(image, training=False))  # a model of several outputs: all of them

    def call_compiled():
        return portable.joined(model.predict_on_batch(image))

    for _ in range(3):
        call_eager(), call_compiled()
    seconds = {call_eager: [], call_compiled: []}
    for _ in range(15):  # alternated, so whatever else runs on the machine meets both alike
        for call, times in seconds.items():
            start = time.perf_counter()
            call()
            times.append(time.perf_counter() - start)
    eager, compiled = (float(np.median(times)) * 1e3 for times in seconds.values())
    return f"{eager:.1f} ms eager vs {compiled:.1f} ms compiled (×{eager / compiled:.1f})"


PROJECT_PACKAGES = ("implementations", "bench", "tests")
_FRESH_LOADER = """
import importlib, json, sys
jobs = json.loads(sys.argv[1])
for name in {packages!r}:
    sys.modules[name] = None  # first the saved files only, not the code that wrote them
import pickle
import numpy as np, keras
with open("images.pickle", "rb") as stream:
    images = pickle.load(stream)  # an array, or a list or dict of arrays for a model of several inputs
verdicts = {{}}
for job in sorted(jobs, key=lambda job: bool(job["imports"])):
    if job["imports"]:
        for name in {packages!r}:
            sys.modules.pop(name, None)
    try:
        for module in job["imports"]:
            importlib.import_module(module)
        model = keras.saving.load_model(job["file"])
        parts = [keras.ops.convert_to_numpy(o) for o in keras.tree.flatten(model(images, training=False))]
        out = parts[0] if len(parts) == 1 else np.concatenate([p.reshape(len(p), -1) for p in parts], axis=1)
        gap = float(np.abs(out - np.load(job["expected"])).max())
        verdicts[job["key"]] = "yes" if gap <= 1e-5 else f"no: outputs differ by {{gap:.2g}}"
    except Exception as error:
        text = (str(error).strip().splitlines() or [""])[0][:90]
        verdicts[job["key"]] = f"no: {{type(error).__name__}}: {{text}}"
print(json.dumps(verdicts))
"""


def defining_modules(model: keras.Model) -> list[str]:
    """The modules, outside Keras, that define the model's class and its layers' classes."""
    classes = [type(model), *(type(layer) for layer in model._flatten_layers(include_self=False))]
    return sorted({c.__module__ for c in classes if c.__module__.split(".")[0] != "keras"})


def fresh_process_loads(models: dict[str, keras.Model], extra_path: str | None = None) -> dict[str, str]:
    """Save each model as .keras and load it in a new interpreter, twice: first with the file alone
    (this project cannot be imported), then after importing the modules that define its classes.

    That is how a model travels to a serving process: a subclassed model or a custom layer loads
    there only if its class is registered with Keras and its module is imported first.  Returns
    ``{"<name>/file only": verdict, "<name>/with its modules": verdict}``.
    """
    jobs = []
    blocked = tuple(dict.fromkeys([*PROJECT_PACKAGES, *(name.split(".")[0] for model in models.values()
                                                        for name in defining_modules(model))]))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        with open(Path(folder) / "images.pickle", "wb") as stream:
            pickle.dump(portable.images(), stream)
        for name, model in models.items():
            model.save(Path(folder) / f"{name}.keras")
            np.save(Path(folder) / f"{name}.npy", _outputs(model))
            for key, imports in (("file only", []), ("with its modules", defining_modules(model))):
                jobs.append(
                    {
                        "key": f"{name}/{key}",
                        "file": f"{name}.keras",
                        "expected": f"{name}.npy",
                        "imports": imports,
                    }
                )
        completed = subprocess.run(
            [sys.executable, "-c", _FRESH_LOADER.format(packages=blocked), json.dumps(jobs)],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": extra_path or ""},
        )
    if completed.returncode != 0:
        why = (completed.stderr.strip().splitlines() or ["no output"])[-1][:90]
        return {job["key"]: f"no: the loading process failed: {why}" for job in jobs}
    return json.loads(completed.stdout.strip().splitlines()[-1])


#: a quantized model is a "yes" when its logits move by at most this much of their own size (root mean
#: square, over :data:`QUANTIZED_IMAGES` images): the probed models are untrained, their logits nearly tied,
#: so "the same class" says little; a broken quantization moves them by their whole size
QUANTIZED_RMS_CHANGE = 0.25
QUANTIZED_IMAGES = 64


def quantized(model_factory, mode: str = "int8") -> tuple[keras.Model | None, str]:
    """(the model quantized with ``mode``, how its logits compare with float32's) or (None, "no: why")."""
    model = model_factory()
    batch = portable.images(QUANTIZED_IMAGES)
    reference = portable.logits(model, batch)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.quantize(mode)
        out = portable.logits(model, batch)
    except Exception as error:
        return None, f"no: {first_line(error)}"
    layers = sum(
        bool(getattr(layer, "quantization_mode", None)) for layer in model._flatten_layers(include_self=False)
    )
    change = float(np.sqrt(np.mean((out - reference) ** 2) / np.mean(reference**2)))
    agree = float(np.mean(out.argmax(-1) == reference.argmax(-1)))
    effect = f"{layers} layer(s) quantized, logits moved {change:.1%} (rms), same class {agree:.0%}"
    if layers == 0:
        return None, "no: quantize() quantized no layer"
    if change > QUANTIZED_RMS_CHANGE:
        return None, f"no: {effect}, over {QUANTIZED_RMS_CHANGE:.0%}"
    return model, effect


class BackgroundProbe:
    """A probe in a process of its own, started now and read when its verdicts are needed.

    Its output goes to files, not pipes, so a talkative framework cannot block it on a
    full pipe while this process is busy with other probes.
    """

    def __init__(self, command: list[str], *, cwd: Path, env: dict[str, str]) -> None:
        self._stdout = tempfile.TemporaryFile(mode="w+")
        self._stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self._stdout, stderr=self._stderr, text=True
        )

    def finish(self) -> tuple[int, str, str]:
        """Wait for the process: (exit status, stdout, stderr)."""
        try:
            returncode = self.process.wait()
            texts = []
            for stream in (self._stdout, self._stderr):
                stream.seek(0)
                texts.append(stream.read())
            return returncode, texts[0], texts[1]
        finally:
            self.stop()

    def verdicts(self) -> tuple[dict | None, str | None]:
        """(the JSON its last line printed, None), or (None, the last line of its error) where it failed."""
        returncode, stdout, stderr = self.finish()
        if returncode != 0:
            return None, (stderr.strip().splitlines() or ["no output"])[-1][:90]
        return json.loads(stdout.strip().splitlines()[-1]), None

    def stop(self) -> None:
        """Kill the process if it still runs (the probes around it failed) and drop its output."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._stdout.close()
        self._stderr.close()


def start_data_parallel(arch: str) -> BackgroundProbe:
    """Start :mod:`bench.probes.distributed` for ``arch``; :func:`data_parallel` reads its verdicts.

    It is the longest probe and needs no model from this process, so it runs on the
    other core while the in-process probes run.
    """
    return BackgroundProbe(
        [sys.executable, "-m", "bench.probes.distributed", arch],
        cwd=PROJECT_ROOT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


def start_torch_jit(arch: str) -> BackgroundProbe | None:
    """Start :mod:`bench.probes.torch_jit` for ``arch`` on the PyTorch backend (None elsewhere)."""
    if keras.backend.backend() != "torch":
        return None
    return BackgroundProbe([sys.executable, "-m", "bench.probes.torch_jit", arch], cwd=PROJECT_ROOT,
                           env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})  # fmt: skip


def torch_jit(probe: BackgroundProbe | None) -> dict[str, str]:
    """{api: verdict} of a probe of :func:`start_torch_jit`."""
    if probe is None:
        return dict.fromkeys(portable_apis(), torch_jit_probe.NOT_TORCH)
    verdicts, why = probe.verdicts()
    return verdicts if verdicts is not None else dict.fromkeys(portable_apis(), f"no: {why}")


def portable_apis() -> tuple[str, ...]:
    """The APIs of the set being probed."""
    probed = portable._PROBED[0]
    return probed.apis if probed is not None else implementations.APIS


def data_parallel(probe: BackgroundProbe) -> dict[str, dict[str, str]]:
    """{api: {"inside": verdict, "outside": verdict}} from a probe of :func:`start_data_parallel`."""
    verdicts, why = probe.verdicts()
    if verdicts is None:
        return {
            api: dict.fromkeys(("inside", "outside", "model parallel"), f"no: {why}")
            for api in portable_apis()
        }
    return verdicts


#: a probe that fails in its own code on a model (a shape of outputs it does not handle): not the API's limit
PROBE_FAILED = "n/a (the probe could not run on this model: {})"


def _attempt(probe, *args, default=None):
    """``probe(*args)``; where the probe itself raises, its verdict says so (n/a, never a "no"), or ``default``
    rows where it gives several."""
    try:
        return probe(*args)
    except Exception as error:
        return PROBE_FAILED.format(first_line(error)) if default is None else default


def _in_process_verdicts(arch: str) -> tuple[dict[str, dict], dict[str, keras.Model]]:
    """({api: {capability: verdict}} of the probes run in this process, {name: model} to load elsewhere).

    Every probe runs even where another fails in its own code on the model: that one's row says why."""
    verdicts: dict[str, dict] = {}
    to_load: dict[str, keras.Model] = {}
    apis = implementations.model_set(arch).apis
    across = _attempt(transfer.weights_across_apis, arch, default={})
    for api in apis:
        model = implementations.build(arch, api, seed=0)
        sources = code_of(arch, api, model)
        to_load[api] = model
        quantizations = {}
        for mode in QUANTIZATION_MODES:
            small, effect = _attempt(quantized, lambda api=api: implementations.build(arch, api, seed=0), mode,
                                     default=(None, None))  # fmt: skip
            effect = effect or PROBE_FAILED.format("quantize")
            quantizations[quantized_row(mode)] = f"yes ({effect})" if small is not None else effect
            if small is not None:
                to_load[f"{api}-{mode}"] = small
        policies = _attempt(dtype_policies, arch, api, model, default=())
        global_policy, model_policy = policies or (PROBE_FAILED.format("mixed precision"),) * 2
        verdicts[api] = {
            "residual topology": _attempt(residual_topology, arch, api, model),
            "summary() output shapes": _attempt(summary_shapes, model),
            "feature extraction via keras.Model(inputs, layer.output)": _attempt(graph_introspection, model),
            WRAPPED_FEATURES: _attempt(wrapped_features, model),
            "clone_model": _attempt(clone, model),
            "clone_model with clone_function (model surgery)": _attempt(clone_with_function, model),
            ".keras save/load (safe_mode)": _attempt(save_round_trip, model),
            BUILD_LOAD_WEIGHTS: _attempt(build_then_load_weights, arch, api, model),
            WEIGHTS_FROM_FUNCTIONAL: across.get(api, PROBE_FAILED.format("weights across APIs")),
            GET_LAYER_REACH: _attempt(transfer.get_layer_reach, model),
            **{f"{FREEZE} {when}": verdict
               for when, verdict in _attempt(transfer.freezing, arch, api, default={}).items()},  # fmt: skip
            LORA: _attempt(transfer.lora, arch, api),
            **_attempt(exports, arch, api, model, default={}),
            **quantizations,
            "model_to_dot (what plot_model draws)": _attempt(graph_nodes, model),
            "mixed_float16 set globally": global_policy,
            "mixed_float16 set on the model": model_policy,
            "eager model(x) vs compiled predict, batch 1": _attempt(eager_latency, model),
            "lines of code": code_lines(sources),
            "code counted": ", ".join(getattr(s, "__name__", str(s)) for s in sources),
        }
        _attempt(causes_told_apart, model, verdicts[api], default=False)
    return verdicts, to_load


def probe_architecture(arch: str) -> dict[str, dict[str, str | int]]:
    """Every capability of every API of ``arch`` on this process's backend: {api: {capability: verdict}}.

    The data-parallel probe runs in its own process from the start, beside the others.
    """
    portable.use_set(implementations.model_set(arch))
    distributed_run, jit_run = start_data_parallel(arch), start_torch_jit(arch)
    try:
        verdicts, to_load = _in_process_verdicts(arch)
        loads = fresh_process_loads(to_load, implementations.model_set(arch).folder)
        distributed = data_parallel(distributed_run)
        compiled = torch_jit(jit_run)
    finally:
        distributed_run.stop()
        if jit_run is not None:
            jit_run.stop()
    for api, row in verdicts.items():
        row[FRESH_FILE_ONLY] = loads[f"{api}/file only"]
        row[FRESH_WITH_MODULES] = loads[f"{api}/with its modules"]
        for mode in QUANTIZATION_MODES:
            row[quantized_load_row(mode)] = loads.get(
                f"{api}-{mode}/with its modules", f"n/a (no {mode} model to save: {row[quantized_row(mode)]})"
            )
        row["data parallel on 2 CPU devices, built inside the scope"] = distributed[api]["inside"]
        row["data parallel on 2 CPU devices, built outside the scope"] = distributed[api]["outside"]
        row[MODEL_PARALLEL] = distributed[api]["model parallel"]
        row[TORCH_JIT] = compiled[api]
    return verdicts
