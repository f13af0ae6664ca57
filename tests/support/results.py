"""Results files for the tests, derived from a saved smoke run with known properties.

Per-round samples are drawn with the shape of this machine's rounds (slow spells, per-process
offsets), so that each verdict of the check or the report is tested against a known truth.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

SAVED = Path(__file__).resolve().parent.parent / "data" / "smoke-cnn-results.json"
ROUNDS = 15
TRAIN = "test_train_throughput[cnn-functional]"
ACCURACY = "test_accuracy[cnn-functional]"


def synthetic_results(
    seed: int,
    *,
    slowdown: dict | None = None,
    machine_factor: float = 1.0,
    same_cost: bool = False,
    kernel_factor: float = 1.0,
    round_noise: float = 0.02,
) -> dict:
    """The saved run with per-round data replaced by samples shaped like this machine's.

    As measured here (ci profile, single-threaded, CPU time): the host runs a whole process
    10-30% slower or faster than another (one factor per run; ``machine_factor`` adds large
    swings), rounds fall into slower spells of seconds that the model and the interleaved native
    reference feel alike, each round varies by ~2% on its own, and the model-to-reference ratio
    differs by ~1% from one process to the next.
    ``slowdown`` maps benchmark names to extra-work factors in the model only (a slower Keras or
    project code); ``kernel_factor`` slows model and reference alike (the framework's own kernels);
    ``same_cost`` gives every API the functional cell's median; ``round_noise`` is each round's own spread
    (0.02 here; a noisy host's is several times that).
    """
    rng = np.random.default_rng(seed)
    results = json.loads(SAVED.read_text())
    if same_cost:
        medians = {b["name"]: b["stats"]["median"] for b in results["benchmarks"]}
        for bench in results["benchmarks"]:
            kind, cell = bench["name"].split("[")
            arch = cell.split("-")[0]
            bench["stats"]["median"] = medians[f"{kind}[{arch}-functional]"]
    run_speed = machine_factor * kernel_factor * np.exp(rng.normal(0, 0.12))
    process_offset = np.exp(rng.normal(0, 0.008))
    for bench in results["benchmarks"]:
        if "reference_round_s" not in bench["extra_info"]:
            continue
        spells = np.where(rng.random(ROUNDS) < 0.3, 1.3, 1.0)
        reference = 0.2 * run_speed * spells * np.exp(rng.normal(0, 0.02, ROUNDS))
        factor = (slowdown or {}).get(bench["name"], 1.0) * process_offset
        cpu = bench["stats"]["median"] * factor * run_speed * spells * np.exp(rng.normal(0, round_noise, ROUNDS))
        wall = cpu * np.exp(np.abs(rng.normal(0, 0.2, ROUNDS)))  # waiting for the core: wall time only
        bench["stats"]["data"] = wall.tolist()
        bench["stats"]["median"] = float(np.median(wall))
        bench["extra_info"]["cpu_round_s"] = cpu.tolist()
        bench["extra_info"]["reference_cpu_round_s"] = reference.tolist()
        bench["extra_info"]["reference_round_s"] = (reference * 1.1).tolist()
    return results


def write(tmp_path: Path, name: str, results: dict) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(results))
    return path


def paired_results(seed: int, slowdown: dict | None = None, rounds: int = 20) -> dict:
    """The saved run with every timed cell paired round by round with the Functional model.

    Partner rounds fall into the host's slower spells like this machine's; each cell round
    sits between two partner rounds and feels the same spell; ``slowdown`` maps cell names
    (e.g. "cnn-subclassing") to the true time ratio to Functional.
    """
    rng = np.random.default_rng(seed)
    results = json.loads(SAVED.read_text())
    for bench in results["benchmarks"]:
        if "reference_round_s" not in bench["extra_info"]:
            continue
        arch, factor = bench["params"]["arch"], (slowdown or {}).get(bench["param"], 1.0)
        spells = np.where(rng.random(rounds + 1) < 0.3, 1.4, 1.0)
        partner = 0.4 * spells * np.exp(rng.normal(0, 0.01, rounds + 1))
        cpu = (partner[:-1] + partner[1:]) / 2 * factor * np.exp(rng.normal(0, 0.015, rounds))
        bench["stats"]["data"] = cpu.tolist()
        bench["stats"]["median"] = float(np.median(cpu))
        bench["extra_info"].update(
            cpu_round_s=cpu.tolist(),
            reference_cpu_round_s=partner.tolist(),
            reference_round_s=partner.tolist(),
            reference=f"{arch}-functional",
        )
    results["machine_info"]["suite"]["settings"]["partner"] = "functional"
    return results


def partner_only_results(seed: int, slowdown: dict | None = None) -> dict:
    """:func:`paired_results` as the current runs record it: Functional has no timed cell of its own."""
    results = paired_results(seed, slowdown)
    results["benchmarks"] = [
        bench
        for bench in results["benchmarks"]
        if not ("reference_round_s" in bench["extra_info"] and bench["params"]["api"] == "functional")
    ]
    return results


#: What bench.probes.capabilities.probe_architecture("cnn") answered on TensorFlow (tests/test_capabilities.py
#: checks the probes themselves); the saved smoke run holds no probes: :func:`with_capabilities` adds them.
PROBED_CNN = {
    api: {
        "residual topology": "none in this architecture",
        "summary() output shapes": "yes" if api != "subclassing" else "partly: 5 rows for 7 weighted layers",
        "feature extraction via keras.Model(inputs, layer.output)": "yes (block1_relu: (28, 28, 64))"
        if api != "subclassing"
        else "no: AttributeError: 'SubclassedCNN' object has no attribute 'inputs'",
        "build(shape) then load_weights on a new model": "yes"
        if api != "subclassing"
        else "no: build() left 0 weights, load_weights loaded nothing it could use, outputs differ",
        "eager model(x) vs compiled predict, batch 1": "18.6 ms eager vs 3.9 ms compiled (×4.8)",
        "lines of code": {"sequential": 7, "functional": 9, "subclassing": 44}[api],
    }
    for api in ("sequential", "functional", "subclassing")
}




def with_capabilities(results: dict, verdicts: dict | None = None, arch: str = "cnn") -> dict:
    """``results`` with a capability benchmark of ``arch`` recorded in it, as ``bench run`` records one."""
    recorded = json.loads(json.dumps(verdicts if verdicts is not None else PROBED_CNN))
    backend = next((b["extra_info"].get("backend") for b in results["benchmarks"]), None) or "tensorflow"
    results["benchmarks"].append(
        {
            "name": f"test_capabilities[{arch}]",
            "param": arch,
            "params": {"arch": arch},
            "stats": {"data": [1.0], "median": 1.0},
            "extra_info": {"backend": backend, "capabilities": recorded},
        }
    )
    return results


#: a framework-gate calibration of one CPU model, threshold ×1.05
CALIBRATED = {"cpu_models": {"AMD EPYC": {"threshold": 0.05}}}


def committed(results: dict, commit: str, when: str, parent: str | None = None) -> dict:
    """``results`` as ``bench run`` records a run of ``commit`` (committed at ``when``, ISO 8601)."""
    results["machine_info"]["suite"].update(commit=commit, changed_paths=[], parent=parent)
    results["commit_info"] = {"id": commit, "time": when, "dirty": False, "branch": "main"}
    return results
