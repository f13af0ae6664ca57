"""The capability probes against models whose answer is known, including ones broken on purpose."""

from __future__ import annotations

import functools
import re
import os
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

import implementations
from bench.probes import capabilities, portable
from tests.support import other_backends

SUBCLASSED_MODULE = """
import keras

{decorator}
class ProbeModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(10)

    def call(self, inputs):
        return self.dense(keras.ops.reshape(inputs, (-1, 28 * 28)))
"""


def _subclassed_from_module(tmp_path, name: str, *, registered: bool) -> keras.Model:
    decorator = f'@keras.saving.register_keras_serializable(package="{name}")' if registered else ""
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(SUBCLASSED_MODULE.format(decorator=decorator)))
    sys.path.insert(0, str(tmp_path))
    try:
        module = __import__(name)
    finally:
        sys.path.remove(str(tmp_path))
    model = module.ProbeModel()
    model(keras.ops.zeros((1, 28, 28, 1)))
    return model


def test_fresh_process_load_needs_registration_and_import(tmp_path):
    models = {
        "registered": _subclassed_from_module(tmp_path, "registered_probe_model", registered=True),
        "unregistered": _subclassed_from_module(tmp_path, "unregistered_probe_model", registered=False),
        "cnn": implementations.build("cnn", "subclassing", seed=0),
    }
    verdicts = capabilities.fresh_process_loads(models, extra_path=str(tmp_path))  # one process for all
    assert verdicts["registered/with its modules"] == "yes"
    assert verdicts["registered/file only"].startswith("no: TypeError: Could not locate class")
    assert verdicts["unregistered/with its modules"].startswith("no:"), verdicts  # registration broken
    assert verdicts["unregistered/file only"].startswith("no:")
    # the project's own subclass: its modules are found, and the file-only process cannot import them
    assert capabilities.defining_modules(models["cnn"]) == [
        "implementations.archs.cnn",
        "implementations.blocks",
    ]
    assert verdicts["cnn/file only"].startswith("no: TypeError: Could not locate class 'SubclassedCNN'")
    assert verdicts["cnn/with its modules"] == "yes"


@pytest.mark.parametrize(
    ("api", "expected"),
    [("functional", "yes"), ("subclassing", "no: build() left 0 weights")],
)
def test_build_then_load_weights(api, expected):
    model = implementations.build("cnn", api, seed=0)
    assert capabilities.build_then_load_weights("cnn", api, model).startswith(expected)


def test_a_subclass_with_its_own_build_does_load(monkeypatch):
    """The probe says yes once the subclass creates its weights in build(): its "no" is about the model."""
    from implementations.archs import cnn

    def build(self, input_shape):
        self.call(keras.ops.zeros((1, *input_shape[1:])))  # the sublayers create their weights

    monkeypatch.setattr(cnn.SubclassedCNN, "build", build)
    model = implementations.build("cnn", "subclassing", seed=0)
    assert capabilities.build_then_load_weights("cnn", "subclassing", model) == "yes"


def test_model_surgery_reaches_layers_only_in_graph_models():
    functional = implementations.build("resnet", "functional", seed=0)
    sequential = implementations.build("resnet", "sequential", seed=0)
    subclassed = implementations.build("resnet", "subclassing", seed=0)
    assert capabilities.clone_with_function(functional).startswith("yes")
    assert capabilities.clone_with_function(sequential).startswith("partly: clone_function sees")
    assert capabilities.clone_with_function(subclassed).startswith("no: ValueError")
    assert capabilities.graph_nodes(functional).startswith("yes")
    assert capabilities.graph_nodes(subclassed) == "partly: 1 node(s) for 22 weighted layers"


def test_exports_are_run_by_their_runtimes_and_a_subclass_exports_only_after_a_call():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("the exports are probed on the TensorFlow backend here")
    verdicts = capabilities.exports("cnn", "functional", implementations.build("cnn", "functional", seed=0))
    for fmt, row in portable.ROWS.items():
        if fmt == "torch":
            assert verdicts[row].startswith("n/a (Keras exports torch from the torch backend")
        elif fmt == "onnx":  # Keras' ONNX exporter wants a called model, whatever its API
            assert verdicts[row].startswith("only after a call (run in onnxruntime, logits within")
        else:
            assert verdicts[row].startswith("yes (run in "), (row, verdicts[row])
    model = implementations.build("cnn", "subclassing", seed=0)
    subclassed = capabilities.exports("cnn", "subclassing", model)
    assert subclassed[portable.ROWS["tf_saved_model"]].startswith("only after a call (run in TFSMLayer")


@pytest.mark.parametrize("fmt", ["tf_saved_model", "onnx", "litert"])
def test_an_artifact_that_computes_something_else_is_a_no(fmt, monkeypatch):
    """The capability broken on purpose: the model's weights change after the export, so the artifact no
    longer computes what the model does; the verdict must read the outputs and flip."""
    if keras.backend.backend() != "tensorflow":
        pytest.skip("probed on the TensorFlow backend here")
    model = implementations.build("cnn", "functional", seed=0)
    portable.logits(model, portable.images())  # called: every format exports it
    exporting = type(model).export

    def stale_export(self, *args, **kwargs):
        exporting(self, *args, **kwargs)
        self.set_weights([w * 1.5 for w in self.get_weights()])

    monkeypatch.setattr(type(model), "export", stale_export)
    assert portable.exported_and_run(model, fmt).startswith("no: outputs differ by")


def test_a_missing_runtime_or_exporter_is_n_a_never_a_no(monkeypatch):
    model = implementations.build("cnn", "functional", seed=0)
    portable.logits(model, portable.images())
    if keras.backend.backend() != "tensorflow":
        pytest.skip("probed on the TensorFlow backend here")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    assert portable.export_verdict(model, model, "onnx") == "n/a (onnxruntime not installed)"
    monkeypatch.setitem(sys.modules, "tf2onnx", None)
    assert portable.export_verdict(model, model, "onnx").startswith("n/a (")


def test_quantized_model_stays_close():
    model, effect = capabilities.quantized(lambda: implementations.build("cnn", "functional", seed=0))
    assert model is not None and "same class" in effect
    assert float(effect.split("same class ")[1].rstrip("%")) >= 50


def test_a_background_probe_with_more_output_than_a_pipe_holds_finishes():
    """The data-parallel probe runs beside the others; its chatter must not stall it while nobody reads."""
    script = "import sys; sys.stderr.write('w' * 300_000); print('x' * 300_000); print('{\"done\": 1}')"
    probe = capabilities.BackgroundProbe([sys.executable, "-c", script], cwd=Path.cwd(), env=dict(os.environ))
    returncode, stdout, stderr = probe.finish()
    assert returncode == 0
    assert stdout.splitlines()[-1] == '{"done": 1}' and len(stderr) == 300_000


def test_a_failed_data_parallel_probe_says_why_for_every_api(monkeypatch):
    monkeypatch.setattr(capabilities.portable, "_PROBED", [implementations.model_set("cnn")])
    script = "import sys; sys.exit('RuntimeError: no second device')"
    probe = capabilities.BackgroundProbe([sys.executable, "-c", script], cwd=Path.cwd(), env=dict(os.environ))
    verdicts = capabilities.data_parallel(probe)
    assert set(verdicts) == set(implementations.model_set("cnn").apis)
    for api in implementations.model_set("cnn").apis:
        assert verdicts[api] == dict.fromkeys(
            ("inside", "outside", "model parallel"), "no: RuntimeError: no second device"
        )


def test_a_background_probe_left_running_is_stopped():
    """When the probes beside it fail, probe_architecture stops it: nothing outlives the run."""
    probe = capabilities.BackgroundProbe(
        [sys.executable, "-c", "import time; time.sleep(60)"], cwd=Path.cwd(), env=dict(os.environ)
    )
    probe.stop()
    assert probe.process.poll() is not None


@functools.cache
def _quantized_and_reloaded() -> tuple[dict[str, str], dict[str, str]]:
    """({mode: effect}, the fresh-process loads): every mode quantized here, all reloaded in one new interpreter,
    as the probe does."""
    effects, models = {}, {}
    for mode in capabilities.QUANTIZATION_MODES:
        model, effects[mode] = capabilities.quantized(lambda: implementations.build("cnn", "functional", seed=0), mode)
        if model is not None:
            models[f"functional-{mode}"] = model
    return effects, capabilities.fresh_process_loads(models)


@pytest.mark.parametrize("mode", capabilities.QUANTIZATION_MODES)
def test_each_quantization_mode_runs_and_reloads_in_a_fresh_process(mode):
    effects, loads = _quantized_and_reloaded()
    assert effects[mode].startswith("1 layer(s) quantized"), effects[mode]
    assert loads[f"functional-{mode}/with its modules"] == "yes", loads


def test_a_quantization_that_garbles_the_logits_is_a_no(monkeypatch):
    """Broken on purpose: quantize() also scrambles the kernels, as a broken quantizer would."""
    real = keras.Model.quantize

    def garbling(self, mode, **kwargs):
        real(self, mode, **kwargs)
        for layer in self._flatten_layers(include_self=False):
            if getattr(layer, "quantization_mode", None) and getattr(layer, "bias", None) is not None:
                layer.bias.assign(layer.bias + 1.0 * np.arange(layer.bias.shape[0], dtype="float32"))

    monkeypatch.setattr(keras.Model, "quantize", garbling)
    build = lambda: implementations.build("cnn", "functional", seed=0)  # noqa: E731
    model, effect = capabilities.quantized(build, "int8")
    assert model is None and effect.startswith("no: 1 layer(s) quantized, logits moved")
    assert "over 25%" in effect


# The distribution probe as `bench run` starts it, and again with each model's map keyed by other paths (broken
# on purpose); the PyTorch compile probe broken two ways: both in the process per backend of
# tests/support/other_backends.py.
@pytest.mark.parametrize("case", ["as built", "renamed"])
def test_model_parallel_keys_each_model_by_its_own_paths(case):
    """Sequential's paths carry the model's name as a prefix (cnn_sequential/block0_conv/kernel), the
    Functional model's do not: a map keyed by each model's own paths shards every API alike, so the verdict
    does not follow the prefix; a map of other paths shards nothing."""
    pytest.importorskip("jax")
    found = other_backends.figures("jax", "distribution")
    for api in implementations.model_set("cnn").apis:
        if case == "as built":
            verdict = found["as built"][api]["model parallel"]
            assert verdict == "yes (4 of 4 kernels sharded by a map of its own paths)", found
        else:
            assert found["renamed"][api].startswith("no: 0 of 4 kernels sharded"), found


def test_the_jax_devices_exist_under_the_runs_own_threading_flags():
    """`bench run` holds XLA to one thread with flags XLA stops reading at; the probe's two devices must
    still exist, so the Functional model trains data-parallel and its own map shards it."""
    pytest.importorskip("jax")
    functional = other_backends.figures("jax", "distribution")["as built"]["functional"]
    assert functional["inside"] == "yes", functional
    assert functional["model parallel"].startswith("yes (4 of 4"), functional


@pytest.mark.parametrize("case, verdict", [("eager", "no: Keras did not compile"),
                                           ("compiled", "no: results differ from eager's by")])  # fmt: skip
def test_a_jit_compile_that_is_not_in_effect_or_computes_otherwise_is_a_no(case, verdict):
    pytest.importorskip("torch")
    for said in other_backends.figures("torch", "compile")[case].values():
        assert said.startswith(verdict), said


def _nesting_row(model: keras.Model) -> dict[str, str]:
    row = {"summary() output shapes": capabilities.summary_shapes(model),
           capabilities.GET_LAYER_REACH: capabilities.transfer.get_layer_reach(model),
           "model_to_dot (what plot_model draws)": capabilities.graph_nodes(model),
           "clone_model with clone_function (model surgery)": capabilities.clone_with_function(model)}  # fmt: skip
    capabilities.causes_told_apart(model, row)
    return row


def test_causes_told_apart_by_a_functional_control_of_the_same_blocks():
    """A subclassed cnn hides its inner layers from summary() because its blocks are custom layers: a
    Functional model of the same blocks does too, so the verdict names that cause; clone_function refuses
    the subclassed model where the control is cloned, so that ✗ stays the API's."""
    row = _nesting_row(implementations.build("cnn", "subclassing", seed=0))
    assert row["summary() output shapes"].endswith("a Functional model of the same blocks shows it too]"), row
    assert row["model_to_dot (what plot_model draws)"].startswith("partly") and capabilities.NESTED_CAUSE in \
        row["model_to_dot (what plot_model draws)"]
    surgery = row["clone_model with clone_function (model surgery)"]
    assert surgery.startswith("no") and capabilities.NESTED_CAUSE not in surgery, surgery
    graph = _nesting_row(implementations.build("resnet", "sequential", seed=0))  # Sequential of custom blocks
    assert graph["summary() output shapes"].endswith(f"[{capabilities.NESTED_CAUSE}, in this graph]"), graph


def test_a_subclass_of_keras_layers_only_keeps_its_verdicts_as_the_apis():
    class Plain(keras.Model):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = keras.layers.Dense(8), keras.layers.Dense(10)

        def call(self, x):
            return self.out(self.hidden(keras.ops.reshape(x, (-1, 28 * 28))))

    model = Plain()
    model(np.zeros((1, 28, 28, 1), "float32"))
    row = _nesting_row(model)
    assert row["model_to_dot (what plot_model draws)"].startswith("partly"), row
    assert not any(capabilities.NESTED_CAUSE in verdict for verdict in row.values()), row


@pytest.mark.parametrize("arch", implementations.ARCHS)
def test_a_wrapped_subclass_gives_features_even_after_its_layers_served_another_graph(arch):
    model = implementations.build(arch, "subclassing", seed=0)
    assert capabilities.blocks_control(model) is not None  # its layers now belong to a second graph too
    assert capabilities.wrapped_features(model).startswith("yes (")
    assert capabilities.graph_introspection(model).startswith("no")


def test_the_code_counted_takes_in_the_files_own_helpers_however_deep(tmp_path):
    """A user's file lists no helpers: the lines of code of an API still count the private functions its
    builder calls, and theirs, not the ones only another API calls."""
    from implementations.loader import load

    path = tmp_path / "helpers.py"
    path.write_text(textwrap.dedent("""
        import keras
        def _width():
            return 8
        def _stack(x):
            return keras.layers.Dense(_width())(x)
        def _unused():
            return 1
        def functional():
            x = keras.Input((4,))
            return keras.Model(x, _stack(x))
        def sequential():
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(_unused() * 8)])
    """))
    chosen = load(str(path))
    found = capabilities._helpers([chosen.builders["functional"]], chosen.module)
    assert sorted(f.__name__ for f in found) == ["_stack", "_width"]


def test_a_probe_that_fails_in_its_own_code_reads_n_a_never_no():
    """A probe that cannot handle a model (a shape of outputs it was not written for) says so in its row; the
    other probes still run, and nothing counts against the API."""
    from bench.report.drawbacks import verdict_class

    def broken(model):
        raise ValueError("setting an array element with a sequence")

    said = capabilities._attempt(broken, None)
    assert said.startswith("n/a (the probe could not run on this model: ValueError") and verdict_class(said) is None
    assert capabilities._attempt(broken, None, default={}) == {}


def test_the_eager_latency_probe_takes_a_model_of_two_outputs():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Flatten()(inputs)
    model = keras.Model(inputs, [keras.layers.Dense(10)(x), keras.layers.Dense(4)(x)])
    assert re.fullmatch(r"[\d.]+ ms eager vs [\d.]+ ms compiled \(×[\d.]+\)", capabilities.eager_latency(model))
