"""The names of the capabilities the probes record, and the few words reports use for each.

Shared by :mod:`bench.probes.capabilities` (which records verdicts under these names) and the reports
(which read them from results files and never probe).
"""

from __future__ import annotations

#: the verdict row that says how an API's model writes skip connections
RESIDUAL_TOPOLOGY = "residual topology"
#: its verdict where the architecture has none
NO_RESIDUAL = "none in this architecture"

FRESH_FILE_ONLY = ".keras load in a fresh process, file only"
FRESH_WITH_MODULES = ".keras load in a fresh process that imports the model's modules"
BUILD_LOAD_WEIGHTS = "build(shape) then load_weights on a new model"
WEIGHTS_FROM_FUNCTIONAL = "load_weights of the Functional model's save_weights file"
GET_LAYER_REACH = "get_layer(name) reaches every weighted layer"
#: the freezing rows are this, then "before compile" or "after compile"
FREEZE = "trainable=False on the first block, set"
LORA = "LoRA: enable_lora(4), one step, .keras round trip"
WRAPPED_FEATURES = "feature extraction after wrapping call(): keras.Model(inputs, model.call(inputs))"
TORCH_JIT = "jit_compile=True on the PyTorch backend (torch.compile), against eager"
MODEL_PARALLEL = "model parallel on 2 CPU devices, LayoutMap keyed by the model's own variable paths"
#: the row's name in results recorded before the map was keyed by each model's own paths (a set-up that read
#: another model's paths as an API limit); reports leave such verdicts out of the drawbacks
MODEL_PARALLEL_BY_FUNCTIONAL_PATHS = "model parallel on 2 CPU devices, LayoutMap keyed by the Functional model's paths"
#: the quantization modes probed, each saved and reloaded in a fresh process
QUANTIZATION_MODES = ("int8", "int4", "float8")


def quantized_row(mode: str) -> str:
    """The verdict row of ``model.quantize(mode)``."""
    return f'quantize("{mode}")'


def quantized_load_row(mode: str) -> str:
    """The verdict row of the ``mode``-quantized model's .keras file, loaded in a fresh process."""
    return f"{mode} .keras in a fresh process that imports the model's modules"


#: the few words the summary uses for each verdict row
SHORT_NAMES = {
    RESIDUAL_TOPOLOGY: "residual as graph edges",
    "summary() output shapes": "summary()",
    "feature extraction via keras.Model(inputs, layer.output)": "feature extraction",
    WRAPPED_FEATURES: "features via a wrapped call()",
    "clone_model": "clone_model",
    "clone_model with clone_function (model surgery)": "clone_function surgery",
    ".keras save/load (safe_mode)": ".keras round trip",
    BUILD_LOAD_WEIGHTS: "build()+load_weights",
    WEIGHTS_FROM_FUNCTIONAL: "Functional's weights load",
    GET_LAYER_REACH: "get_layer()",
    f"{FREEZE} before compile": "freeze before compile",
    f"{FREEZE} after compile": "freeze after compile",
    LORA: "LoRA",
    MODEL_PARALLEL: "model parallel (LayoutMap)",
    MODEL_PARALLEL_BY_FUNCTIONAL_PATHS: "model parallel (another model's paths)",
    TORCH_JIT: "torch.compile",
    "export: TF SavedModel": "SavedModel export",
    "export: ONNX": "ONNX export",
    "export: LiteRT": "LiteRT export",
    "export: torch.export": "torch.export",
    **{quantized_row(mode): f"{mode} quantize" for mode in QUANTIZATION_MODES},
    "model_to_dot (what plot_model draws)": "plot_model()",
    "mixed_float16 set globally": "global mixed precision",
    "mixed_float16 set on the model": "per-model mixed precision",
    FRESH_FILE_ONLY: "load from the file alone",
    FRESH_WITH_MODULES: "load with its modules",
    **{quantized_load_row(mode): f"{mode} .keras load" for mode in QUANTIZATION_MODES},
    "data parallel on 2 CPU devices, built inside the scope": "data parallel (built in scope)",
    "data parallel on 2 CPU devices, built outside the scope": "data parallel (built outside)",
}



#: what a user can do where an API's model gets ✗ or ◐ in a row, for the answer screen's last column; a row
#: without one shows the reason its verdict gives.  Each was tried on the registry's models
#: (docs/capabilities.md); the full verdicts, errors included, are in the report's capability section.
REMEDIES = {
    RESIDUAL_TOPOLOGY: "no branch: a custom layer hides the skip",
    "summary() output shapes": "custom layers: one row, even with expand_nested",
    "feature extraction via keras.Model(inputs, layer.output)": (
        "wrap: keras.Model(x, model.call(x)), then cut"
    ),
    "clone_model with clone_function (model surgery)": "custom layers clone whole: rebuild in code",
    BUILD_LOAD_WEIGHTS: "call it on a batch, not build(), then load",
    WEIGHTS_FROM_FUNCTIONAL: "nesting differs: set_weights(src.get_weights())",
    GET_LAYER_REACH: "nested layers: reach them through their block",
    MODEL_PARALLEL: "key the LayoutMap by this model's own paths",
    MODEL_PARALLEL_BY_FUNCTIONAL_PATHS: "set-up: the map named another model's paths",
    "export: TF SavedModel": "call the model on a batch before export()",
    "export: ONNX": "call the model on a batch before export()",
    "export: LiteRT": "call it before export(); torch: batch 1 only",
    "export: torch.export": "call it on a batch before export(); batch 1 only",
    "model_to_dot (what plot_model draws)": "layers made inside custom layers draw as one box",
    FRESH_FILE_ONLY: "register the classes, import their module first",
    **dict.fromkeys(
        map(quantized_load_row, QUANTIZATION_MODES), "rebuild, call, quantize(), then load_weights"
    ),
}


#: causes that several rows share: a drawback counts once per cause (bench.report.drawbacks)
CALL_FIRST = "no weights before a first call"
CLASSES_NEEDED = "a .keras file needs the model's classes registered and imported"
NESTED_LAYERS = "nested custom layers"
NO_GRAPH = "no graph to cut features from"
EXPORT_ROWS = ("export: TF SavedModel", "export: ONNX", "export: LiteRT", "export: torch.export")
CAUSES = {
    BUILD_LOAD_WEIGHTS: CALL_FIRST,
    FRESH_FILE_ONLY: CLASSES_NEEDED,
    FRESH_WITH_MODULES: CLASSES_NEEDED,
    ".keras save/load (safe_mode)": CLASSES_NEEDED,
    **dict.fromkeys(map(quantized_load_row, QUANTIZATION_MODES), CLASSES_NEEDED),
    WEIGHTS_FROM_FUNCTIONAL: NESTED_LAYERS,  # a weights file follows the saving model's layer nesting
    "feature extraction via keras.Model(inputs, layer.output)": NO_GRAPH,
}
#: rows whose ✗ has no way around it
HARD_LIMITS = (RESIDUAL_TOPOLOGY,)
#: the marker a probe adds to a verdict that nested custom layers cause (bench.probes.capabilities)
NESTED_MARKER = "cause: nested custom layers"
