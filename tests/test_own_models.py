"""A user's models file: loaded like the built-in ones, its parity checked first, every mistake one line.

The three files in tests/models are unlike cnn and resnet: integer token inputs (text_tokens), two inputs
Sequential cannot express (two_inputs), a single API (single_api).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import implementations
from bench.__main__ import main
from implementations.loader import ModelsFileError, load

MODELS = Path(__file__).parent / "models"


@pytest.fixture(autouse=True)
def _own_environment(monkeypatch):
    """bench run --models sets $BENCH_MODELS and PYTHONPATH for its children: restored after each test."""
    for name in (implementations.MODELS_ENV, "PYTHONPATH"):
        monkeypatch.setenv(name, os.environ.get(name, ""))  # recorded, so whatever a test sets is undone
    monkeypatch.delenv(implementations.MODELS_ENV)
    monkeypatch.setattr(sys, "path", list(sys.path))


def _file(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def _refused(capsys, *argv: str) -> str:
    """The one error line of a refused command (exit 2, nothing else on stderr)."""
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_the_three_files_load_with_their_apis():
    assert load(str(MODELS / "text_tokens.py")).apis == ("sequential", "functional", "subclassing",
                                                          "functional_subclass")  # fmt: skip
    assert load(str(MODELS / "two_inputs.py")).apis == ("functional", "subclassing", "functional_subclass")
    solo = load(str(MODELS / "single_api.py"))
    assert solo.apis == ("functional",) and solo.partner == "functional" and solo.name == "solo"


def test_inputs_are_drawn_from_the_keras_inputs_where_the_file_gives_no_sample_batch():
    pair = load(str(MODELS / "two_inputs.py"))
    x, y = pair.sample_batch(5)
    assert [a.shape for a in x] == [(5, 16, 16, 3), (5, 8)] and y.shape == (5,) and set(y) <= {0, 1, 2}
    built = pair.build("subclassing")
    assert built.count_params() == pair.build("functional").count_params()


def test_integer_inputs_without_sample_batch_name_it(tmp_path):
    source = (MODELS / "text_tokens.py").read_text().replace("def sample_batch(", "def _unused(")
    chosen = load(str(_file(tmp_path, "tokens_only.py", source)))
    with pytest.raises(ModelsFileError, match="integer inputs.*define sample_batch"):
        chosen.sample_batch(2)


def test_a_subclassed_model_alone_needs_sample_batch(tmp_path):
    path = _file(tmp_path, "sub_only.py", """
        import keras
        class M(keras.Model):
            def __init__(self):
                super().__init__()
                self.d = keras.layers.Dense(3)
            def call(self, x):
                return self.d(x)
        def subclassing():
            return M()
    """)
    with pytest.raises(ModelsFileError, match="cannot be read from it; define sample_batch"):
        load(str(path)).sample_batch(2)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("import keras\nx = 1 +\n", r"bad_file.py:2: SyntaxError"),
        ("import keras\nraise RuntimeError('no GPU here')\n", r"bad_file.py:2: RuntimeError: no GPU here"),
        ("import keras\nNAME = 'fine'\n", r"defines no builder; define at least one of sequential\(\)"),
        ("def functional():\n    raise ValueError('width must be even')\n",
         r"functional\(\) raised ValueError: width must be even"),
        ("def functional():\n    return 42\n", r"functional\(\) returned int, not a keras.Model"),
        ("import keras\nNAME = 'has-dash'\ndef functional():\n    return None\n", r"NAME 'has-dash' is not a name"),
    ],
    ids=["syntax", "raises-on-import", "no-builder", "builder-raises", "not-a-model", "bad-name"],
)
def test_a_broken_models_file_is_one_error_line(tmp_path, capsys, body, expected):
    path = _file(tmp_path, "bad_file.py", body)
    err = _refused(capsys, "run", "--profile", "smoke", "--out", str(tmp_path / "r.json"), "--models", str(path))
    assert __import__("re").search(expected, err), err
    assert not (tmp_path / "r.json").exists()


def test_a_missing_file_is_one_error_line(tmp_path, capsys):
    err = _refused(capsys, "run", "--out", str(tmp_path / "r.json"), "--models", str(tmp_path / "nowhere.py"))
    assert "nowhere.py does not exist" in err


def test_sample_batch_the_model_refuses_is_one_error_line(tmp_path, capsys):
    source = (MODELS / "single_api.py").read_text() + textwrap.dedent("""
        def sample_batch(batch_size):
            return np.zeros((batch_size, 28, 28, 1), "float32"), np.zeros(batch_size, "int64")
    """)
    err = _refused(capsys, "run", "--out", str(tmp_path / "r.json"), "--models",
                   str(_file(tmp_path, "wrong_shape.py", source)))  # fmt: skip
    assert "the functional model refuses the inputs of sample_batch" in err


def test_one_api_given_twice_under_different_widths_fails_parity(tmp_path, capsys):
    twice = _file(tmp_path, "twice.py", f"""
        import sys
        sys.path.insert(0, {str(MODELS)!r})
        import single_api
        NAME = "solo_twice"
        def functional():
            return single_api.functional(width=42)
        def functional_subclass():
            return single_api.functional(width=48)
    """)
    err = _refused(capsys, "run", "--out", str(tmp_path / "r.json"), "--models", str(twice))
    assert "parity: solo_twice functional has 100,385 parameters, functional_subclass 130,853" in err
    assert not (tmp_path / "r.json").exists()


def test_outputs_that_differ_with_the_same_weights_fail_parity(tmp_path, capsys):
    """Broken on purpose: the same layers, another activation in one API."""
    path = _file(tmp_path, "activation.py", """
        import keras
        def sequential():
            return keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu")])
        def functional():
            x = keras.Input((4,))
            return keras.Model(x, keras.layers.Dense(3, activation="tanh")(x))
    """)
    err = _refused(capsys, "run", "--out", str(tmp_path / "r.json"), "--models", str(path))
    assert "activation sequential and functional with the same weights differ by" in err


def test_parity_holds_for_the_three_files():
    from bench.run import parity

    os.environ[implementations.MODELS_ENV] = os.pathsep.join(str(MODELS / f) for f in
                                                             ("text_tokens.py", "two_inputs.py", "single_api.py"))
    lines = [line for arch in implementations.ARCHS for line in parity.check(arch)]
    assert implementations.ARCHS == ("textcls", "twoinput", "solo")
    assert sum(" = " in line for line in lines) == 6 + 3  # every pair of APIs of the first two files
    assert "solo gives functional only (100,385 parameters)" in lines[-1]
    assert all("outputs within" in line for line in lines if "textcls" in line), lines


def test_regress_and_bisect_outside_git_are_one_error_line(tmp_path, capsys):
    path = _file(tmp_path, "model.py", "import keras\ndef functional():\n    return None\n")
    err = _refused(capsys, "regress", "--out", str(tmp_path / "out"), "--models", str(path))
    assert "is not inside a git repository" in err
    err = _refused(capsys, "bisect", "HEAD~1", "HEAD", "--models", str(path))
    assert "is not inside a git repository" in err


def test_an_unknown_baseline_is_one_error_line(tmp_path, capsys):
    repo = tmp_path / "repo"
    repo.mkdir()
    _file(repo, "model.py", "import keras\ndef functional():\n    return None\n")
    for command in (["init", "-q"], ["add", "."], ["-c", "user.name=u", "-c", "user.email=u@x", "commit", "-qm", "m"]):
        subprocess.run(["git", *command], cwd=repo, check=True)
    err = _refused(capsys, "regress", "--out", str(tmp_path / "out"), "--models", str(repo / "model.py"),
                   "--baseline", "no-such-ref")  # fmt: skip
    assert "git does not know the commit 'no-such-ref'" in err


def test_a_models_module_given_by_name_loads(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(MODELS))
    chosen = load("two_inputs")
    assert chosen.name == "twoinput" and chosen.folder is None
    with pytest.raises(ModelsFileError, match="cannot be found"):
        load("no_such_models_module")


def test_a_changed_models_file_changes_its_digest_not_its_name(tmp_path):
    first = load(str(_file(tmp_path, "evolving.py", "import keras\ndef functional():\n    return None\n")))
    (tmp_path / "later").mkdir()
    second = load(str(_file(tmp_path / "later", "evolving.py", "import keras\ndef functional():\n    return 1\n")))
    assert first.name == second.name == "evolving" and first.digest() != second.digest()


def test_sample_batch_of_the_text_model_trains(capsys):
    chosen = load(str(MODELS / "text_tokens.py"))
    x, y = chosen.sample_batch(8)
    model = chosen.build("functional_subclass")
    model.compile(optimizer="adam", loss=chosen.training_loss())
    assert np.isfinite(float(np.asarray(model.train_on_batch(x, y)).reshape(-1)[0]))
    assert sys.modules.get("text_tokens") is not None  # loaded by its own name: its classes pickle and reload


def test_a_model_of_two_inputs_exports_and_runs_in_each_runtime_in_every_api():
    """What users ask of multi-input subclassed models: SavedModel, ONNX and LiteRT artifacts of the two-input
    file's models, each fed both inputs by its own runtime, give the Keras logits."""
    import keras

    from bench.probes import portable

    if keras.backend.backend() != "tensorflow":
        pytest.skip("n/a: the three formats are offered together on the TensorFlow backend")
    pair = load(str(MODELS / "two_inputs.py"))
    portable.use_set(pair)
    try:
        for api in pair.apis:
            for fmt in ("tf_saved_model", "onnx", "litert"):
                verdict = portable.export_verdict(pair.build(api), pair.build(api), fmt)
                assert verdict.startswith(("yes (run in", "only after a call (run in")), (api, fmt, verdict)
    finally:
        portable.use_set(None)


TWO_OUTPUTS = """
    import keras
    import numpy as np

    LOSS = [keras.losses.SparseCategoricalCrossentropy(from_logits=True), "mse"]

    def functional():
        inputs = keras.Input((6,))
        x = keras.layers.Dense(8, activation="relu")(inputs)
        return keras.Model(inputs, [keras.layers.Dense(3)(x), keras.layers.Dense(2)(x)])

    def sample_batch(n):
        rng = np.random.default_rng(0)
        return rng.random((n, 6), dtype=np.float32), (rng.integers(0, 3, n), rng.random((n, 2), dtype=np.float32))
"""


def test_a_model_of_two_outputs_trains_with_accuracy_on_its_class_output_only(tmp_path):
    """Labels for several outputs come as a tuple: the model compiles as the suite compiles it and trains a
    step, with accuracy on the output whose labels are class ids and none on the regression output."""
    from bench.core.profiles import get_profile
    from bench.run.steps import compiled_model

    path = _file(tmp_path, "two_heads.py", TWO_OUTPUTS)
    chosen = load(str(path))
    x, y = chosen.sample_batch(4)
    assert isinstance(y, list) and [a.shape for a in y] == [(4,), (4, 2)]
    assert chosen.accuracy_metrics == [["accuracy"], []]
    os.environ[implementations.MODELS_ENV] = str(path)
    model = compiled_model("two_heads", "functional", get_profile("smoke"))
    scores = model.train_on_batch(x, y, return_dict=True)
    accuracies = [key for key in scores if key.endswith("accuracy")]
    assert len(accuracies) == 1 and np.isfinite(scores["loss"]), scores


def test_a_regression_gets_no_accuracy_metric(tmp_path):
    path = _file(tmp_path, "regression.py", """
        import keras
        import numpy as np
        LOSS = "mse"
        def functional():
            inputs = keras.Input((4,))
            return keras.Model(inputs, keras.layers.Dense(1)(inputs))
        def sample_batch(n):
            return np.ones((n, 4), "float32"), np.zeros((n, 1), "float32")
    """)
    assert load(str(path)).accuracy_metrics is None


def test_a_subclass_that_creates_its_layers_in_another_order_than_it_calls_them_keeps_parity(tmp_path, capsys):
    """By position the weights land in the wrong layers; matched in the order the layers are called, the two
    are the same model, and parity says how it matched them."""
    path = _file(tmp_path, "reordered.py", """
        import keras

        def functional():
            inputs = keras.Input((8,))
            x = keras.layers.Dense(8, activation="relu")(inputs)
            return keras.Model(inputs, keras.layers.Dense(8)(x))

        class Net(keras.Model):
            def __init__(self):
                super().__init__()
                self.second = keras.layers.Dense(8)
                self.first = keras.layers.Dense(8, activation="relu")

            def call(self, x):
                return self.second(self.first(x))

        def subclassing():
            return Net()
    """)
    from bench.run import parity

    os.environ[implementations.MODELS_ENV] = str(path)
    (line,) = parity.check("reordered")
    assert line.endswith("(weights matched in the order the layers are called)"), line


def test_inputs_come_from_a_model_that_declares_them_when_the_first_does_not(tmp_path):
    """A Sequential written without keras.Input declares no inputs until called: the inputs are read from the
    Functional model of the same file; a file where no model declares them is told to define sample_batch."""
    body = """
        import keras

        def sequential():
            return keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(4)])
    """
    deferred = _file(tmp_path, "deferred.py", body + """
        def functional():
            inputs = keras.Input((10,))
            x = keras.layers.Dense(16, activation="relu")(inputs)
            return keras.Model(inputs, keras.layers.Dense(4)(x))
    """)
    x, y = load(str(deferred)).sample_batch(3)
    assert x.shape == (3, 10) and set(y) <= set(range(4))
    alone = _file(tmp_path, "alone.py", body)
    with pytest.raises(ModelsFileError, match="no model of the file declares its inputs.*define sample_batch"):
        load(str(alone)).sample_batch(3)


def test_the_built_in_models_compile_with_the_accuracy_metric_as_before():
    """Their compile (and so every timed cell and the evidence runs) is unchanged by users' several outputs."""
    assert all(implementations.model_set(arch).accuracy_metrics == ["accuracy"] for arch in ("cnn", "resnet"))
