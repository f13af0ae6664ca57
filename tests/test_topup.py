"""bench run tops up the train steps until their paired ratios reach the profile's precision or its
time budget is spent; bench report pools a run with its top-ups."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import numpy as np
import pytest

from bench import __main__ as cli
from bench.core import ratios
from bench.core.profiles import PROFILES
from bench.core.results import load
from bench.run import supervise, topup
from tests.support.results import partner_only_results

TARGET = 0.02


def noisy_run(seed: int, noise: float, cells: list[str] | None = None) -> dict:
    """A paired run whose train rounds scatter by ``noise`` (log-normal sigma) around their partners;
    only the train benchmarks of ``cells`` when given, as a top-up's -k selection leaves them."""
    results = partner_only_results(seed)
    rng = np.random.default_rng(seed)
    for bench in results["benchmarks"]:
        extra = bench["extra_info"]
        if bench["name"].startswith("test_train_throughput[") and "cpu_round_s" in extra:
            extra["cpu_round_s"] = [t * rng.lognormal(0, noise) for t in extra["cpu_round_s"]]
    if cells is not None:
        results["benchmarks"] = [
            b for b in results["benchmarks"] if topup.KIND in b["name"] and b["param"] in cells
        ]
    return results


class FakeTopUps:
    """Stands in for bench run's pytest: writes a top-up of the selected cells, records each call."""

    def __init__(self, noise: float = 0.05):
        self.calls: list[tuple[str, str, dict]] = []
        self.noise = noise

    def __call__(self, path: Path, selection: str, env: dict):
        self.calls.append((path.name, selection, env))
        cells = [cell for cell in ("cnn-sequential", "cnn-subclassing", "resnet-sequential",
                                   "resnet-subclassing") if cell in selection]  # fmt: skip
        path.write_text(json.dumps(noisy_run(100 + len(self.calls), self.noise, cells)))
        return 0, None


def _main_run(tmp_path: Path, noise: float) -> Path:
    out = tmp_path / "results.json"
    out.write_text(json.dumps(noisy_run(7, noise)))
    return out


def test_the_quick_profile_tops_up_to_the_report_s_target():
    assert PROFILES["quick"].precision_target == ratios.TARGET_HALF_WIDTH
    assert PROFILES["ci"].precision_target is None  # the regression check runs what it is told


def test_top_ups_run_until_the_target_is_met_and_only_for_the_cells_above_it(tmp_path):
    out = _main_run(tmp_path, noise=0.05)
    widths = topup.train_half_widths([load(out)])
    assert np.median(list(widths.values())) > TARGET  # the main run alone misses the target
    runs = FakeTopUps()
    assert topup.top_up(out, TARGET, time.time() + 3600, runs) is None
    assert runs.calls, "no top-up"
    for number, (name, selection, env) in enumerate(runs.calls, start=1):
        assert name == f"results-topup-{number}.json"
        assert selection.startswith("train_throughput and (") and float(env["BENCH_DEADLINE"]) > time.time()
    first_selection = runs.calls[0][1]
    assert any(width <= TARGET for width in widths.values())  # a cell already precise is not measured again
    assert all((cell in first_selection) == (width > TARGET) for cell, width in widths.items())
    paths = [out, *(tmp_path / name for name, _, _ in runs.calls)]
    assert np.median(list(topup.train_half_widths(list(map(load, paths))).values())) <= TARGET
    assert (
        np.median(list(topup.train_half_widths(list(map(load, paths[:-1]))).values())) > TARGET
    )  # no top-up too many
    recorded = json.loads(out.read_text())["machine_info"]["suite"]["top_ups"]
    assert recorded == [name for name, _, _ in runs.calls]


def test_no_top_up_when_the_run_is_already_precise(tmp_path, capsys):
    out = _main_run(tmp_path, noise=0.0)
    runs = FakeTopUps()
    assert topup.top_up(out, TARGET, time.time() + 3600, runs) is None
    assert runs.calls == [] and "within ±2%" in capsys.readouterr().out
    assert "top_ups" not in json.loads(out.read_text())["machine_info"]["suite"]


def test_no_top_up_that_would_end_after_the_budget(tmp_path, capsys):
    out = _main_run(tmp_path, noise=0.05)
    runs = FakeTopUps()
    shortest = min(topup.cell_seconds(json.loads(out.read_text())).values())
    assert topup.top_up(out, TARGET, time.time() + topup.PROCESS_START_S + shortest - 1, runs) is None
    assert runs.calls == [] and "too little for a top-up" in capsys.readouterr().out


def test_an_interrupted_top_up_is_dropped_and_the_main_run_kept(tmp_path):
    out = _main_run(tmp_path, noise=0.05)
    before = out.read_text()

    def interrupted(path: Path, selection: str, env: dict):
        path.write_text("{")  # what a killed run may leave
        return 130, signal.SIGTERM

    assert topup.top_up(out, TARGET, time.time() + 3600, interrupted) == 128 + signal.SIGTERM
    assert out.read_text() == before and topup.top_ups_of(out) == []


def _report(*paths: Path, out: Path) -> int:
    """``python -m bench report PATHS --out OUT``, in this process."""
    return cli.main(["report", *map(str, paths), "--out", str(out)])


@pytest.fixture
def topped_up_run(tmp_path) -> Path:
    """A run topped up to the target; the report's capability probing answered from a fixture."""
    out = _main_run(tmp_path, noise=0.05)
    assert topup.top_up(out, TARGET, time.time() + 3600, FakeTopUps()) is None
    return out


def test_the_report_of_a_run_pools_its_top_ups(topped_up_run, tmp_path):
    names = json.loads(topped_up_run.read_text())["machine_info"]["suite"]["top_ups"]
    assert _report(topped_up_run, out=tmp_path / "report") == 0
    text = (tmp_path / "report" / "REPORT.md").read_text()
    assert f"Repeated runs pooled (tensorflow): {' + '.join(['results.json', *names])}." in text
    assert "within ±2%" in text.split("## Details")[0]


def test_a_missing_top_up_is_named_and_the_run_still_reported(topped_up_run, tmp_path, capsys):
    for path in topup.top_ups_of(topped_up_run):
        path.unlink()
    assert _report(topped_up_run, out=tmp_path / "report") == 0
    assert "which is missing; reporting without it" in capsys.readouterr().out
    assert "Repeated runs pooled" not in (tmp_path / "report" / "REPORT.md").read_text()


def test_bench_run_tops_up_a_whole_quick_run_and_clears_an_earlier_run_s_top_ups(tmp_path, monkeypatch):
    """The wiring in python -m bench run: the profile's target and budget, the -k selection, stale files."""
    out = tmp_path / "results.json"
    stale = topup.top_up_path(out, 7)
    stale.write_text("{}")
    commands, top_ups = [], FakeTopUps()

    def fake_pytest(command, env):
        commands.append((command, env))
        path = Path(next(arg for arg in command if arg.startswith("--benchmark-json=")).split("=", 1)[1])
        if "-k" in command:
            return top_ups(path, command[command.index("-k") + 1], env)
        path.write_text(json.dumps(noisy_run(7, 0.05)))
        return 0, None

    monkeypatch.setattr(supervise, "supervise", fake_pytest)
    assert cli.main(["run", "--profile", "quick", "--out", str(out)]) == 0
    assert not stale.exists()
    recorded = json.loads(out.read_text())["machine_info"]["suite"].get("top_ups")
    assert recorded and len(commands) == 1 + len(recorded)
    budget_end = float(commands[1][1]["BENCH_DEADLINE"])
    assert budget_end < time.time() + PROFILES["quick"].time_budget_s
    commands.clear()
    assert cli.main(["run", "--profile", "quick", "--out", str(out), "-k", "cnn"]) == 0
    assert len(commands) == 1  # a selection of the benchmarks is run as asked, never topped up
