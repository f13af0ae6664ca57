"""Drawbacks weighed by kind, each cause once: what decides the API the answer names."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.core.capability_names import (
    BUILD_LOAD_WEIGHTS,
    MODEL_PARALLEL,
    MODEL_PARALLEL_BY_FUNCTIONAL_PATHS,
    NESTED_MARKER,
    RESIDUAL_TOPOLOGY,
)
from bench.report.drawbacks import (
    HARD,
    SETUP,
    SPEED,
    WEIGHTS,
    WORKAROUND,
    Drawback,
    capability_drawback,
    choose,
    headline,
    score,
    tally,
)


def test_kinds_follow_the_cause_not_the_row():
    assert capability_drawback(RESIDUAL_TOPOLOGY, "no: the skip hides in a custom layer").kind == HARD
    export = capability_drawback("export: ONNX", "only after a call (called: yes)")
    load = capability_drawback(BUILD_LOAD_WEIGHTS, "no: build() left 0 weights")
    assert (export.kind, load.kind) == (WORKAROUND, WORKAROUND) and export.cause == load.cause
    nested = capability_drawback("summary() output shapes", f"partly: 5 rows [{NESTED_MARKER}, in this graph]")
    assert nested.kind == WORKAROUND and nested.cause == "nested custom layers"
    assert capability_drawback(MODEL_PARALLEL_BY_FUNCTIONAL_PATHS, "no: 0 of 4 kernels sharded").kind == SETUP
    assert capability_drawback(MODEL_PARALLEL, "no: 0 of 4 kernels sharded").kind == WORKAROUND


def test_one_cause_shown_by_many_rows_counts_once_at_its_heaviest_kind():
    call_first = [capability_drawback(row, "only after a call (called: yes)")
                  for row in ("export: TF SavedModel", "export: ONNX", "export: LiteRT")]  # fmt: skip
    call_first.append(capability_drawback(BUILD_LOAD_WEIGHTS, "no: build() left 0 weights"))
    assert score(call_first) == WEIGHTS[WORKAROUND]
    slower = [Drawback(SPEED, "slower on jax", "train step 9% slower"), Drawback(SPEED, "slower on jax", "predict")]
    assert score(call_first + slower) == WEIGHTS[WORKAROUND] + WEIGHTS[SPEED]
    assert tally(call_first + slower) == "1 speed or memory, 1 workaround"


def test_a_probe_set_up_is_listed_but_never_weighed():
    setup = capability_drawback(MODEL_PARALLEL_BY_FUNCTIONAL_PATHS, "no: 0 of 4 kernels sharded")
    choice = choose({"sequential": [setup], "functional": []}, {"sequential": 20, "functional": 30})
    assert choice.apis == ["sequential", "functional"] and choice.shorter == "sequential"
    assert headline(choice, str.title) == "tie: Sequential or Functional; Sequential is shorter"
    assert tally([setup]) == "only probe set-ups"


def test_a_hard_limit_outweighs_a_workaround_however_many_rows_show_it():
    many = [capability_drawback(row, "only after a call (called: yes)")
            for row in ("export: TF SavedModel", "export: ONNX", "export: LiteRT", "export: torch.export")]  # fmt: skip
    hard = [capability_drawback(RESIDUAL_TOPOLOGY, "no")]
    choice = choose({"sequential": hard, "subclassing": many}, {"sequential": 10, "subclassing": 40})
    assert choice.apis == ["subclassing"] and headline(choice, str) == "use subclassing"


_DRAWBACKS = st.builds(Drawback, st.sampled_from(list(WEIGHTS)), st.sampled_from("abcd"), st.text(max_size=3))


@given(st.lists(_DRAWBACKS, max_size=12), st.randoms())
def test_the_weight_does_not_depend_on_how_often_or_in_what_order_a_cause_is_shown(drawbacks, rng):
    shuffled = drawbacks * 2
    rng.shuffle(shuffled)
    assert score(shuffled) == score(drawbacks)
    assert score(drawbacks) <= WEIGHTS[HARD] * len({d.cause for d in drawbacks})


def test_the_method_page_states_the_weights_the_code_uses():
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "method.md").read_text()
    for kind, weight in WEIGHTS.items():
        assert f"| {kind} | {weight} |" in page, kind


def test_any_row_that_fails_for_an_unregistered_class_is_that_one_cause():
    """A user's subclass that is not registered fails every .keras load, LoRA's round trip included: one
    workaround (register and import the classes), never a hard limit."""
    lora = capability_drawback("LoRA: enable_lora(4), one step, .keras round trip",
                               "no: TypeError: Could not locate class 'Two'. Make sure custom classes are decorated")
    saved = capability_drawback(".keras save/load (safe_mode)", "no: TypeError: Could not locate class 'Two'.")
    assert lora.kind == WORKAROUND and lora.cause == saved.cause
    assert score([lora, saved]) == WEIGHTS[WORKAROUND]


def test_keras_guides_read_a_graph_of_several_outputs_as_no_plain_stack():
    from bench.report.drawbacks import keras_guide

    assert keras_guide({"functional": {RESIDUAL_TOPOLOGY: "none found in the graph"}}) == (
        "functional", "several inputs or outputs: not a plain stack")
    assert keras_guide({"functional": {RESIDUAL_TOPOLOGY: "none in this architecture"}})[0] == "sequential"


def test_keras_guides_read_a_stack_of_custom_blocks_that_sequential_expresses_as_a_plain_stack():
    from bench.report.drawbacks import keras_guide

    blocks = {RESIDUAL_TOPOLOGY: "via custom layer (Block)"}
    assert keras_guide({"sequential": blocks, "functional": blocks})[0] == "sequential"
    assert keras_guide({"functional": blocks})[0] == "functional"  # no Sequential given: a block may hide a skip
