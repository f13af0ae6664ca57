"""Reading results files written by ``python -m bench run`` (pytest-benchmark JSON plus suite metadata)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from bench.core.kinds import APIS, TIMED_KINDS
from bench.core.validate import ResultsError, check


def load(path: str | Path) -> dict:
    """Parse one results file and check it at the door (:func:`bench.core.validate.check`)."""
    path = Path(path)
    if not path.is_file():
        raise ResultsError(f"{path}: results file not found")
    try:
        results = json.loads(path.read_text(encoding="utf-8"))  # NaN, Infinity: parsed, then refused by check
    except json.JSONDecodeError as error:
        raise ResultsError(
            f"{path}: not valid JSON, perhaps truncated ({error.msg} at line {error.lineno})"
        ) from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not a text file") from None
    except ValueError as error:  # a number too long to convert
        raise ResultsError(f"{path}: {error}") from None
    except OSError as error:
        raise ResultsError(f"{path}: cannot be read ({error.strerror or error})") from None
    except RecursionError:
        raise ResultsError(f"{path}: nested too deeply to be a results file") from None
    try:
        check(results, str(path))
    except RecursionError:
        raise ResultsError(f"{path}: nested too deeply to be a results file") from None
    results["_path"] = str(path)
    return results


def rewrite(path: Path, results: dict) -> None:
    """Write ``results`` over ``path`` all at once: a reader never sees half a file."""
    temporary = path.with_suffix(path.suffix + ".partial")
    temporary.write_text(json.dumps(results, indent=4), encoding="utf-8")
    temporary.replace(path)


def normalized_times(data, reference) -> np.ndarray:
    """Each round's time divided by the reference rounds run around it on the same machine.

    With one reference round more than rounds (the current format), round i is divided by the
    mean of the references just before and just after it; older files have only the one before.
    The reference is as large as the models and runs seconds apart from them, so a machine
    that is slower for a while slows both and the ratio stays put.
    """
    data = np.asarray(data, dtype=float)
    per_round = partner_per_round(np.asarray(reference, dtype=float), len(data))
    return data / per_round if per_round is not None else data


def partner_per_round(reference: np.ndarray, rounds: int) -> np.ndarray | None:
    """The partner time each of ``rounds`` rounds is divided by in :func:`normalized_times`: the mean
    of the two around it (current format), the one before it (older files), or None (no pairing)."""
    if len(reference) == rounds + 1:
        return (reference[:-1] + reference[1:]) / 2
    return reference if len(reference) == rounds else None


def reference_fits(data, reference) -> bool:
    """Whether ``reference`` has a round for each of ``data``'s (plus, in the current format, one after)."""
    return len(reference) in (len(data), len(data) + 1)


def timed_rounds(extra: dict, wall_data) -> tuple[np.ndarray, np.ndarray]:
    """(model, reference) seconds per round on the file's timing basis: process CPU time where the
    run recorded it, wall time in files from before it did."""
    if extra.get("cpu_round_s") is not None and extra.get("reference_cpu_round_s") is not None:
        return np.asarray(extra["cpu_round_s"], float), np.asarray(extra["reference_cpu_round_s"], float)
    return np.asarray(wall_data, float), np.asarray(extra.get("reference_round_s") or [], float)


def timing_basis(extra: dict) -> str:
    """The basis of :func:`timed_rounds` for this benchmark: "CPU time" or "wall time"."""
    return "CPU time" if extra.get("cpu_round_s") is not None else "wall time"


def kind_of(bench: dict) -> str:
    """'train_throughput', 'accuracy', ... from 'test_train_throughput[cnn-functional]'."""
    return bench["name"].split("[", 1)[0].removeprefix("test_")


def frame(results: dict) -> pd.DataFrame:
    """One row per benchmark: kind, arch, api, id, backend, round times and extra_info."""
    suite = results["machine_info"]["suite"]
    source = Path(results.get("_path", "results.json")).name
    rows = []
    for bench in results["benchmarks"]:
        params = bench.get("params") or {}
        rows.append(
            {
                "kind": kind_of(bench),
                "arch": params.get("arch"),
                "api": params.get("api"),
                "id": bench.get("param") or bench["name"],
                "name": bench["name"],
                "backend": bench["extra_info"].get("backend", suite.get("backend")),
                "data": bench["stats"].get("data") or [],
                "median_s": bench["stats"].get("median"),
                "extra": bench["extra_info"],
                "source": source,
            }
        )
    return pd.DataFrame(rows + [{**row, "source": source} for row in partner_rows(rows)])


#: the API whose model is every other cell's partner in the functional-partner profiles (a user's models file
#: without it is paired with its first API: :func:`partner_api`)
PARTNER_API = "functional"


def partner_api(arch: str, reference: str | None) -> str | None:
    """The API of the same architecture whose rounds a cell's were paired with (its ``extra["reference"]``
    is ``ARCH-API``), or None where the partner was something else (the native reference)."""
    prefix = f"{arch}-"
    if not isinstance(reference, str) or not reference.startswith(prefix):
        return None
    api = reference[len(prefix):]
    return api if api in APIS else None
_KEPT_FROM_SOURCE = ("batch", "backend", "device", "jit", "mixed_precision", "params", "reference_kind")


def _interior_and_brackets(cells: list[dict], field: str) -> tuple[list[float], list[float]]:
    """(every partner round but the first and last, the mean of the rounds just before and after each),
    over the partner rounds ``extra[field]`` of all ``cells``."""
    rounds, brackets = [], []
    for cell in cells:
        times = np.asarray(cell["extra"][field], float)
        rounds += list(times[1:-1])
        brackets += list((times[:-2] + times[2:]) / 2)
    return rounds, brackets


def wall_figures(kind: str, batch: int | None, wall_rounds) -> dict[str, float]:
    """The figures a row shows from its rounds' wall times: batch-1 p50/p90, otherwise images/s."""
    if kind == "latency_batch1":
        return {
            "p50_s": float(np.percentile(wall_rounds, 50)),
            "p90_s": float(np.percentile(wall_rounds, 90)),
        }
    return {"images_per_s": batch / float(np.median(wall_rounds))} if batch else {}


def partner_rows(rows: list[dict]) -> list[dict]:
    """The Functional cells of a run that timed Functional only as the other cells' partner.

    In such a run every round of a Sequential or subclassing cell sits between two rounds of
    the same architecture's Functional model.  Those partner rounds are the Functional
    model's own rounds: each interior one, divided by the mean of the partner rounds just
    before and after it, is an A/A ratio of the same kind as every cell's (Functional
    against itself, rounds apart).  The derived row pools the interior partner rounds of
    all of the architecture's paired cells of that kind, with those bracket means as its
    reference; its ``extra["derived_from"]`` names the cells.  A file that timed
    Functional as a cell of its own keeps that row and gets none derived.
    """
    timed = {(row["backend"], row["arch"], row["api"], row["kind"]) for row in rows}
    sources: dict[tuple, list[dict]] = {}
    for row in rows:
        extra = row["extra"]
        partner = partner_api(row["arch"], extra.get("reference"))
        if partner is None or row["api"] == partner:
            continue
        if (row["backend"], row["arch"], partner, row["kind"]) in timed:
            continue
        cpu, wall = extra.get("reference_cpu_round_s") or [], extra.get("reference_round_s") or []
        if len(cpu) >= 3 and len(wall) == len(cpu):
            sources.setdefault((row["backend"], row["arch"], partner, row["kind"]), []).append(row)
    derived = []
    for (backend, arch, partner, kind), cells in sources.items():
        cpu_rounds, cpu_brackets = _interior_and_brackets(cells, "reference_cpu_round_s")
        wall_rounds, wall_brackets = _interior_and_brackets(cells, "reference_round_s")
        first = cells[0]
        extra = {key: first["extra"][key] for key in _KEPT_FROM_SOURCE if key in first["extra"]}
        extra.update(
            {
                "reference": f"{arch}-{partner}",
                "cpu_round_s": cpu_rounds,
                "reference_cpu_round_s": cpu_brackets,
                "reference_round_s": wall_brackets,
                "derived_from": [cell["id"] for cell in cells],
            }
        )
        extra.update(wall_figures(kind, extra.get("batch"), wall_rounds))
        name = f"test_{kind}[{arch}-{partner}]"
        derived.append(
            {
                "kind": kind,
                "arch": arch,
                "api": partner,
                "id": f"{arch}-{partner}",
                "name": name,
                "backend": backend,
                "data": wall_rounds,
                "median_s": float(np.median(wall_rounds)),
                "extra": extra,
            }
        )
    return derived


#: benchmark kinds whose rounds are paired with partner rounds, and pooled over repeated runs


def pooling_key(results: dict) -> dict[str, object]:
    """What two results files must share for their rounds of one cell to be pooled: the same code
    and versions, measured the same way on the same kind of machine."""
    suite = results["machine_info"]["suite"]
    settings = suite.get("settings") or {}
    return {
        "backend": suite.get("backend"),
        "profile": suite.get("profile"),
        "CPU model": suite.get("cpu_model"),
        "device": suite.get("device"),
        "dataset": suite.get("dataset"),
        "commit": suite.get("commit"),
        "uncommitted changes": suite.get("changed_paths") or [],
        "versions": suite.get("versions"),
        **{
            field: settings.get(field)
            for field in (
                "partner",
                "threads",
                "jit",
                "mixed_precision",
                "deterministic",
                "train_batch",
                "inference_batch",
            )
        },
    }


def _pooled_timed_row(rows: list[dict]) -> dict:
    """One row with every round of ``rows`` (one cell, several runs), each round kept with the
    partner time of its own run: normalized rounds stay normalized within the run they came from."""

    def per_round(field: str, rounds: list[np.ndarray]) -> list[float] | None:
        partners = [
            partner_per_round(np.asarray(row["extra"].get(field) or [], float), len(model))
            for row, model in zip(rows, rounds, strict=True)
        ]
        return None if any(p is None for p in partners) else list(np.concatenate(partners))

    first = rows[0]
    extra = {key: value for key, value in first["extra"].items() if not key.endswith("round_s")}
    wall_rounds = [np.asarray(row["data"], float) for row in rows]
    wall = list(np.concatenate(wall_rounds))
    if (wall_reference := per_round("reference_round_s", wall_rounds)) is not None:
        extra["reference_round_s"] = wall_reference
    if all(timing_basis(row["extra"]) == "CPU time" for row in rows):
        cpu_rounds = [np.asarray(row["extra"]["cpu_round_s"], float) for row in rows]
        extra.update(
            cpu_round_s=list(np.concatenate(cpu_rounds)),
            reference_cpu_round_s=per_round("reference_cpu_round_s", cpu_rounds),
        )
    extra.update(wall_figures(first["kind"], extra.get("batch"), wall))
    extra["pooled_from"] = [row["source"] for row in rows]
    return {**first, "data": wall, "median_s": float(np.median(wall)), "extra": extra}


def _pooled_row(rows: list[dict]) -> dict:
    """One row for one cell measured by several runs: timed rounds pooled, first-step times
    pooled, anything else (accuracy: fixed seeds; capabilities) from the first run."""
    if rows[0]["kind"] in TIMED_KINDS:
        return _pooled_timed_row(rows)
    extra = {**rows[0]["extra"], "pooled_from": [row["source"] for row in rows]}
    if all("first_step_s" in row["extra"] for row in rows):
        extra["first_step_s"] = [s for row in rows for s in row["extra"]["first_step_s"]]
    return {**rows[0], "extra": extra}


def pool_repeats(all_results: list[dict]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """One frame for several results files; a cell measured by more than one of them gets one row.

    Repeated runs are how a reader tightens a CI beyond what one run gives: rounds of one
    process share that process's offset, so a second process adds what more rounds cannot.
    Rounds are pooled, each divided by the partner rounds of its own run.  Files are pooled
    only when :func:`pooling_key` agrees; otherwise two files measuring the same cell are
    an error (report them separately).  Returns the frame and, per backend, the pooled files.
    """
    frames = [frame(results) for results in all_results]
    keys = {Path(results["_path"]).name: pooling_key(results) for results in all_results}
    if len(keys) < len(all_results):
        raise ResultsError("the same file name twice: each results file once, please")
    rows = pd.concat(frames, ignore_index=True).to_dict("records")
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        groups.setdefault((row["backend"], row["kind"], row["arch"], row["api"], row["id"]), []).append(row)
    pooled, pooled_files = [], {}
    for (backend, *_), group in groups.items():
        if len(group) == 1:
            pooled.append(group[0])
            continue
        first = group[0]["source"]
        for row in group[1:]:
            differing = [k for k, v in keys[row["source"]].items() if keys[first][k] != v]
            if differing:
                raise ResultsError(
                    f"{first} and {row['source']} both measure {group[0]['name']} but differ in "
                    f"{', '.join(differing)}: their rounds cannot be pooled; report them separately"
                )
        pooled.append(_pooled_row(group))
        pooled_files.setdefault(backend, [])
        pooled_files[backend] += [
            row["source"] for row in group if row["source"] not in pooled_files[backend]
        ]
    return pd.DataFrame(pooled), pooled_files


# results older than this recorded the pytest parent's RSS as every probe's peak (see bench.probes.first_step)
VALID_RSS_PROBE = 2


def rss_growth(extra: dict) -> tuple[int | None, str | None]:
    """(peak RSS of a first-step probe above the imported framework, None) or (None, why it is invalid)."""
    if extra.get("rss_probe_version", 1) < VALID_RSS_PROBE:
        return None, "this file's RSS is the parent process's (probe version 1)"
    if not extra.get("peak_rss_since_import", True):
        return None, "the peak could not be reset after the framework import (/proc/self/clear_refs)"
    return extra["rss_growth_bytes"], None


def archs_of(frame: pd.DataFrame) -> list[str]:
    """The architectures a results frame measured, in name order (a report shows what its files hold)."""
    return sorted(a for a in frame["arch"].dropna().unique() if a)
