"""The CI check measures the recorded baseline commit here, at its framework versions, and confirms
what it flags."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from bench.check import checkouts, framework_gate, regress, sidebyside
from bench.core.machine import cpu_model, cpu_slug
from bench.history.schema import runs as runs_table
from bench.history.store import open_store
from tests.support.results import TRAIN, synthetic_results

FIXTURE = Path(__file__).parent / "data" / "smoke-cnn-results.json"
_real_versions_differ = regress.versions_differ


def test_baselines_are_named_by_backend_and_cpu_model():
    assert cpu_slug("Intel(R) Xeon(R) Processor @ 2.50GHz") == "intel-r-xeon-r-processor-2-50ghz"
    assert cpu_slug("AMD EPYC 9B14") == "amd-epyc-9b14"
    assert regress.baseline_path("jax", "AMD EPYC 9B14").name == "ci-jax-amd-epyc-9b14.json"


def _head() -> str:
    return subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def recorded_baseline(tmp_path, monkeypatch):
    """A committed baseline for this machine's CPU model that names HEAD, as the check reads it."""
    baselines = tmp_path / "baselines"
    baselines.mkdir()
    recorded = json.loads(FIXTURE.read_text())
    recorded["machine_info"]["suite"]["commit"] = _head()
    (baselines / regress.baseline_path("tensorflow").name).write_text(json.dumps(recorded))
    monkeypatch.setattr(regress, "BASELINES", baselines)
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    monkeypatch.setattr(regress, "versions_differ", lambda pins: {})
    # FakeRuns' two runs of a pair draw their host speed apart, as runs one after the other do (side by
    # side they share it): the absolute-time gate is calibrated only where a test says so
    no_calibration = tmp_path / "framework-gate.json"
    no_calibration.write_text(json.dumps({"cpu_models": {}}))
    monkeypatch.setattr(framework_gate, "CALIBRATION", no_calibration)
    return recorded


class FakeRuns:
    """Stands in for ``bench run``: writes synthetic results, slowed for chosen checkout runs."""

    # one noise draw per output, whichever run of a pair starts first
    SEEDS = {"baseline-here.json": 1, "results.json": 2, "results-again.json": 3, "baseline-again.json": 4,
             "results-again-2.json": 5, "baseline-again-2.json": 6, "results-again-3.json": 7,
             "baseline-again-3.json": 8, "baseline-gate.json": 9, "results-gate.json": 10}  # fmt: skip

    # the baseline run beside each checkout run
    PARTNERS = {"results.json": "baseline-here.json"} | {
        f"results-{n}.json": f"baseline-{n}.json" for n in ("again", "again-2", "again-3", "gate")
    }

    def __init__(self, slow_checkout_runs: set[int] = frozenset(), slowdown: float = 1.08,
                 slowdowns: dict[int, float] | None = None,
                 kernel_factors: dict[int, float] | None = None):  # fmt: skip
        """``slowdown`` in the checkout runs numbered in ``slow_checkout_runs``, or per run: ``slowdowns``.
        With ``kernel_factors``, each checkout run shares its baseline partner's host (its noise draw), as
        side by side, and the runs numbered there run the framework's kernels that much slower, under model
        and reference alike."""
        self.calls: list[tuple[Path, str, list[str], str]] = []
        self.slowdowns = slowdowns or dict.fromkeys(slow_checkout_runs, slowdown)
        self.kernel_factors = kernel_factors

    def __call__(self, root: Path, out: Path, extra_args, python=sys.executable, env=None) -> int:
        # both runs of a pair load the plugin that starts each benchmark in both together, one per side
        assert extra_args[-3:] == ["--", "-p", "bench_duet"] and env["BENCH_DUET_DIR"]
        side = "checkout" if root == sidebyside.PROJECT_ROOT else "baseline"
        assert env["BENCH_DUET_SIDE"] == side and str(sidebyside.DUET_PLUGIN) in env["PYTHONPATH"]
        self.calls.append((root, out.name, list(extra_args[:-3]), python))
        if root == sidebyside.PROJECT_ROOT:
            assert python == sys.executable  # the checkout always runs in this environment
            index = sum(call[0] == sidebyside.PROJECT_ROOT for call in self.calls) - 1
            slowdown = {TRAIN: self.slowdowns[index]} if index in self.slowdowns else None
            kernel_factor = (self.kernel_factors or {}).get(index, 1.0)
        else:
            assert (root / "bench" / "__main__.py").is_file() and root != sidebyside.PROJECT_ROOT  # the baseline commit
            slowdown = None
        if root == sidebyside.PROJECT_ROOT and self.kernel_factors is not None:
            seed = self.SEEDS[self.PARTNERS[out.name]]
            results = synthetic_results(seed, slowdown=slowdown, kernel_factor=kernel_factor)
        else:
            results = synthetic_results(self.SEEDS[out.name], slowdown=slowdown)
        results["machine_info"]["suite"]["profile"] = "ci"
        out.write_text(json.dumps(results))
        return 0


def test_the_baseline_commit_is_measured_here_even_where_a_baseline_was_recorded(
    tmp_path, monkeypatch, recorded_baseline
):
    runs = FakeRuns()
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 0
    (head_root, head_out, _, _), (base_root, base_out, _, _) = sorted(
        runs.calls, key=lambda call: call[0] != sidebyside.PROJECT_ROOT
    )
    assert base_root != sidebyside.PROJECT_ROOT and head_root == sidebyside.PROJECT_ROOT
    assert (base_out, head_out) == ("baseline-here.json", "results.json")
    assert not base_root.exists()  # the worktree is removed
    with open_store(None).connect() as connection:  # both runs of the check went into the history
        recorded = connection.execute(select(runs_table.c.source, runs_table.c.trigger)).all()
    assert sorted(recorded) == [("baseline-here.json", "regress"), ("results.json", "regress")]


def test_a_timed_regression_must_hold_over_further_pairs_of_runs(tmp_path, monkeypatch, recorded_baseline):
    runs = FakeRuns(slow_checkout_runs=set(range(4)))  # 8% slower, in every run of the checkout
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 1
    pairs = [runs.calls[number : number + 2] for number in range(0, len(runs.calls), 2)]
    assert len(pairs) > 1
    for pair in pairs:  # each pair: one run of the baseline commit and one of the checkout
        assert sorted(root == sidebyside.PROJECT_ROOT for root, *_ in pair) == [False, True]
    assert all(args == ["-k", TRAIN] for pair in pairs[1:] for *_, args, _ in pair)  # only what was flagged
    assert sorted(out for _, out, *_ in pairs[1]) == ["baseline-again.json", "results-again.json"]


def test_two_offsets_in_a_row_are_not_a_regression_while_the_pairs_disagree(
    tmp_path, monkeypatch, recorded_baseline, capsys
):
    """Two checkout processes 8% slow, then two normal ones: pooled over two pairs the train step reads
    more than 5% slower, but the per-pair ratios do not agree, so the check measures on and clears it."""
    runs = FakeRuns(slow_checkout_runs={0, 1})
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 0
    assert len(runs.calls) > 4
    assert f"not a regression over the pairs of runs pooled: {TRAIN}" in capsys.readouterr().out


def test_the_two_runs_of_a_pair_run_side_by_side(tmp_path, monkeypatch, recorded_baseline):
    """Neither run of a pair starts after the other has finished: both share the host's spells."""
    import threading

    both_started = threading.Barrier(2, timeout=30)
    runs = FakeRuns()

    def meeting_runs(*args, **kwargs):
        both_started.wait()  # breaks (an error) unless the other run of the pair is under way
        return runs(*args, **kwargs)

    monkeypatch.setattr(sidebyside, "bench_run", meeting_runs)
    assert regress.regress(tmp_path / "out") == 0
    assert len(runs.calls) == 2


def test_one_slow_process_is_not_a_regression(tmp_path, monkeypatch, recorded_baseline, capsys):
    runs = FakeRuns(slow_checkout_runs={0})  # 8% slower in the first run only: a process offset
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 0
    out = capsys.readouterr().out
    assert f"1 regression(s): {TRAIN}" in out  # the first comparison alone flags it
    assert f"not a regression over the pairs of runs pooled: {TRAIN}" in out
    assert len(runs.calls) == 4  # back under the screen threshold over two pairs: decided


def test_a_steady_5pct_slowdown_that_one_comparison_misses_is_a_regression_over_four_pairs(
    tmp_path, monkeypatch, recorded_baseline, capsys
):
    """The rule tightens as pairs add up: a slowdown one comparison leaves under 5% is caught."""
    runs = FakeRuns(slowdowns=dict.fromkeys(range(4), 1.05))
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 1
    assert len(runs.calls) == 8
    out = capsys.readouterr().out
    assert "no regression in" in out  # the first comparison alone: under its 5% rule
    assert "normalized rounds of 4 baseline and 4 checkout runs, pooled" in out
    assert f"1 regression(s) after confirmation: {TRAIN}" in out


def test_a_slowdown_under_the_threshold_is_measured_twice_more_but_not_a_regression(
    tmp_path, monkeypatch, recorded_baseline, capsys
):
    runs = FakeRuns(slowdowns={0: 1.03, 1: 1.05, 2: 1.0})  # a suspect (2% or more), under 3% pooled
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 0
    # still 2% slower over two pairs and not a regression: a third pair, then decided on all three
    assert len(runs.calls) == 6 and all(args == ["-k", TRAIN] for _, _, args, _ in runs.calls[2:])
    assert sorted(out for _, out, *_ in runs.calls[4:]) == ["baseline-again-2.json", "results-again-2.json"]
    out = capsys.readouterr().out
    assert "normalized rounds of 3 baseline and 3 checkout runs, pooled" in out
    assert "no regression after confirmation" in out


def test_a_slowdown_left_undecided_by_two_pairs_is_caught_by_further_pairs(
    tmp_path, monkeypatch, recorded_baseline, capsys
):
    # a slowdown that the checkout's second run reads low: over two pairs it is 2% or more slower, yet
    # not a regression; further pairs decide
    runs = FakeRuns(slowdowns={0: 1.06, 1: 1.04, 2: 1.1, 3: 1.1})
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 1
    assert len(runs.calls) == 8
    out = capsys.readouterr().out
    assert f"over 2 pairs and not a regression: {TRAIN}; measuring again" in out
    assert f"1 regression(s) after confirmation: {TRAIN}" in out


def test_the_baseline_runs_with_the_framework_versions_it_was_recorded_with(
    tmp_path, monkeypatch, recorded_baseline
):
    installed = {"keras": "3.99.0", "tensorflow": "2.21.0", "numpy": "2.4.6"}
    monkeypatch.setattr(regress, "versions_differ", _real_versions_differ)
    monkeypatch.setattr(checkouts, "installed_version", installed.get)
    built = []

    def fake_environment(worktree, pins, backend, where):
        built.append(pins)
        return "/baseline-env/bin/python"

    monkeypatch.setattr(regress, "baseline_environment", fake_environment)
    runs = FakeRuns()
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == 0
    assert built == [{"keras": "3.15.1", "tensorflow": "2.21.0", "numpy": "2.4.6"}]
    assert sorted(python for *_, python in runs.calls) == sorted(["/baseline-env/bin/python", sys.executable])


def test_version_pins_follow_the_backend():
    recorded = {"versions": {"keras": "3.15.1", "tensorflow": "2.21.0", "jax": "0.10.2", "numpy": "2.4.6"}}
    assert regress.version_pins(recorded, "jax") == {
        "keras": "3.15.1", "jax": "0.10.2", "jaxlib": "0.10.2", "numpy": "2.4.6"
    }  # fmt: skip
    assert regress.version_pins(recorded, "torch") == {"keras": "3.15.1", "numpy": "2.4.6"}
    assert regress.version_pins({}, "tensorflow") == {}


def test_no_baseline_at_all_is_one_line_and_exit_2(tmp_path):
    code = (
        "import sys; from pathlib import Path; from bench.check import regress; "
        "from bench import __main__ as cli;"
        f"regress.BASELINES = Path({str(tmp_path)!r});"
        f"sys.exit(cli.main(['regress', '--out', {str(tmp_path)!r}]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.startswith("error:") and result.stderr.count("\n") == 1
    assert "no ci baseline" in result.stderr


def test_this_machine_has_a_name():
    assert cpu_model() and cpu_slug()


@pytest.mark.parametrize("name", sorted(p.name for p in regress.BASELINES.glob("ci-*.json")))
def test_committed_baselines_are_named_after_their_cpu(name):
    from bench.core.results import load

    suite = load(regress.BASELINES / name)["machine_info"]["suite"]
    assert name == regress.baseline_path(suite["backend"], suite["cpu_model"]).name
    assert suite["settings"]["threads"] == 1 and suite["commit"] and not suite["commit"].endswith("-dirty")


@pytest.mark.parametrize(
    "kernel_factors, status, gate_pair",
    [({0: 1.10, 1: 1.10}, 1, True), ({0: 1.10}, 0, True), ({0: 1.02, 1: 1.02}, 0, False)],
    ids=["10pct-held", "10pct-first-pair-only", "2pct"],
)
def test_slower_framework_kernels_fail_the_check_through_the_absolute_time_gate(
    tmp_path, monkeypatch, recorded_baseline, capsys, kernel_factors, status, gate_pair
):
    """10% slower kernels under model and native reference alike cancel in the normalized comparison. Past
    this CPU model's calibrated threshold in the first pair, the absolute CPU time makes a suspect, and its
    two benchmarks are measured again: still past it, the check fails; a first pair alone, or 2%, does not."""
    calibration = tmp_path / "calibrated.json"
    calibration.write_text(json.dumps({"cpu_models": {"AMD EPYC": {"threshold": 0.05}}}))
    monkeypatch.setattr(framework_gate, "CALIBRATION", calibration)
    runs = FakeRuns(kernel_factors=kernel_factors)
    monkeypatch.setattr(sidebyside, "bench_run", runs)
    assert regress.regress(tmp_path / "out") == status
    out = capsys.readouterr().out
    assert "no regression in" in out  # the normalized comparison: nothing, no suspect
    first = kernel_factors[0]
    assert f"absolute CPU time ×{first:.3f}" in out
    if gate_pair:
        gate_runs = runs.calls[2:]
        assert sorted(name for _, name, *_ in gate_runs) == ["baseline-gate.json", "results-gate.json"]
        assert all(
            args == ["-k", " or ".join(framework_gate.INDEX_BENCHMARKS)] for _, _, args, _ in gate_runs
        )
        second = kernel_factors.get(1, 1.0)
        assert f"then ×{second:.3f} in a second pair" in out
    else:
        assert len(runs.calls) == 2
    verdict = "regression" if status else "no change"
    assert out.count(f"×1.050: {verdict}") + out.count(f"second pair: {verdict}") == 1
    assert f"×{first:.3f}" in (tmp_path / "out" / "COMPARE.md").read_text()


def test_a_baseline_environment_cut_off_while_built_is_built_again_not_reused(tmp_path, monkeypatch):
    """A check killed during pip leaves a virtual environment without its packages: the next check must not
    take it for the recorded versions' environment."""
    calls = []

    def killed_pip(python, *args):
        calls.append(args)
        raise KeyboardInterrupt  # what a Ctrl-C during pip looks like here

    where = tmp_path / "baseline-env"
    pins = {"keras": "3.15.1"}
    monkeypatch.setattr(checkouts, "_pip", killed_pip)
    with pytest.raises(KeyboardInterrupt):
        checkouts.baseline_environment(tmp_path, pins, "tensorflow", where)
    assert not (where / "constraints.txt").exists()
    monkeypatch.setattr(checkouts, "_pip", lambda python, *args: calls.append(args))
    checkouts.baseline_environment(tmp_path, pins, "tensorflow", where)
    assert len(calls) == 2 and (where / "constraints.txt").read_text() == "keras==3.15.1\n"
    checkouts.baseline_environment(tmp_path, pins, "tensorflow", where)  # whole now: reused, pip not called
    assert len(calls) == 2
