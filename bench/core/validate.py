"""The one door every results file passes: its shape, types and figures checked before anything reads them.

``history add``, ``compare``, ``report``, ``regress``, ``bisect`` and the gate all read results files through
:func:`bench.core.results.load`, which calls :func:`check`.  A file is refused whole, with one message that
names the file and, where one is at fault, the benchmark: a time that is not a finite positive number, a
reference round list that does not fit its rounds, a field of the wrong type, a benchmark named twice.  What
is refused is never stored, never averaged in and never rendered.  Fields the suite does not know pass
unchecked: a later version may add some.
"""

from __future__ import annotations

import math
from datetime import datetime, timezone

from bench.core.escape import terminal

#: the longest name the history store keeps per field (its columns' sizes, bench.history.schema)
NAME_LIMITS = {"benchmark": 255, "machine": 255, "backend": 32, "profile": 32, "dataset": 64}


class ResultsError(ValueError):
    """A results file that cannot be used; the message names the file and the problem."""


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value) -> bool:
    """A number that is finite as a float (an integer too large for a float is not)."""
    try:
        return _number(value) and math.isfinite(float(value))
    except OverflowError:
        return False


def _date(value) -> bool:
    """An ISO 8601 time that converts to UTC (naive times are read as UTC, as the history reads them)."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        moment.replace(tzinfo=moment.tzinfo or timezone.utc).astimezone(timezone.utc)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return False
    return True


class _Checker:
    """Collects nothing: the first problem raises, naming the file and what is wrong."""

    def __init__(self, path: str):
        self.path = path

    def fail(self, problem: str, benchmark: str | None = None) -> None:
        where = f"benchmark {terminal(repr(benchmark)[:120])}: " if benchmark is not None else ""
        raise ResultsError(f"{self.path}: {where}{problem}")

    def typed(self, mapping: dict, field: str, kinds: tuple, label: str, benchmark=None, *, nullable=True):
        value = mapping.get(field)
        if value is None and nullable:
            return None
        if not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool)):
            names = " or ".join(kind.__name__ for kind in kinds) + (" or null" if nullable else "")
            self.fail(f"{label} {field!r} is {type(value).__name__}, not {names}", benchmark)
        return value

    def times(self, values, label: str, benchmark: str, *, required: bool = False) -> list | None:
        """A list of finite positive seconds (each round's time)."""
        if values is None and not required:
            return None
        if required and not values:
            self.fail(f"{label}: no per-round data (write results with python -m bench run)", benchmark)
        if not isinstance(values, list):
            self.fail(f"{label} is not a list of round times", benchmark)
        for value in values:
            if not _finite(value) or value <= 0:
                self.fail(f"{label} holds {value!r}: round times must be finite positive seconds", benchmark)
        return values


_SUITE_TYPES = {
    "backend": (str,),
    "commit": (str,),
    "parent": (str,),
    "cpu_model": (str,),
    "cpu_threads": (int,),
    "device": (str,),
    "device_kind": (str,),
    "dataset": (str,),
    "dataset_fallback": (str,),
    "python": (str,),
    "machine": (str,),
    "benchmark_code": (str,),
    "commit_note": (str,),
    "commit_time": (str,),
    "models": (list,),
    "reference_version": (int,),
    "seed": (int,),
    "settings": (dict,),
    "versions": (dict,),
    "env": (dict,),
    "changed_paths": (list,),
    "top_ups": (list,),
    "interrupted": (str,),
}
#: extra_info figures that are positive seconds or rates where present
_POSITIVE = ("images_per_s", "p50_s", "p90_s", "time_to_target_s")
_COUNTS = ("batch", "params", "epochs", "epochs_planned", "train_images", "test_images", "probe_train_steps")
_STRINGS = ("backend", "device", "reference", "reference_kind", "dataset")
#: the figures bench run writes for each kind of benchmark that the report, the check and the history read
REQUIRED = {
    "train_throughput": ("batch", "images_per_s"),
    "inference_throughput": ("batch", "images_per_s"),
    "latency_batch1": ("batch", "p50_s", "p90_s"),
    "accuracy": ("test_accuracy", "epochs"),
    "first_step_and_memory": ("first_step_s", "rss_growth_bytes"),
    "capabilities": ("capabilities",),
}
#: what every results file's suite metadata holds
SUITE_REQUIRED = ("backend", "dataset", "device", "device_kind", "cpu_model")


def _check_suite(check: _Checker, results: dict) -> dict:
    machine_info = results.get("machine_info")
    suite = machine_info.get("suite") if isinstance(machine_info, dict) else None
    if not isinstance(suite, dict) or "profile" not in suite:
        check.fail("pytest-benchmark results without this suite's metadata (write them with bench run)")
    if not isinstance(suite["profile"], str) or not suite["profile"]:
        check.fail(f"the suite's profile is {suite['profile']!r}, not a name")
    for field, kinds in _SUITE_TYPES.items():
        check.typed(suite, field, kinds, "the suite's")
    for field in SUITE_REQUIRED:
        check.typed(suite, field, (str,), "the suite's", nullable=False)
    for field in ("changed_paths", "top_ups"):
        if any(not isinstance(item, str) for item in suite.get(field) or []):
            check.fail(f"the suite's {field!r} holds something that is not a path")
    if any(not isinstance(v, (str, type(None))) for v in (suite.get("versions") or {}).values()):
        check.fail("the suite's 'versions' holds something that is not a version string")
    for field, limit in NAME_LIMITS.items():
        value = suite.get(field)
        if isinstance(value, str) and (len(value) > limit or "\x00" in value):
            check.fail(f"the suite's {field} is over {limit} characters or holds a NUL")
    if suite.get("commit_time") is not None and not _date(suite["commit_time"]):
        check.fail(f"the suite's commit_time {terminal(repr(suite['commit_time'])[:60])} is not an ISO 8601 time")
    if results.get("datetime") is not None and not _date(results["datetime"]):
        check.fail(f"'datetime' {terminal(repr(results['datetime'])[:60])} is not an ISO 8601 time")
    info = results.get("commit_info")
    if info is not None:
        if not isinstance(info, dict):
            check.fail(f"'commit_info' is {type(info).__name__}, not an object")
        check.typed(info, "id", (str,), "commit_info's")
        check.typed(info, "branch", (str,), "commit_info's")
        if info.get("time") is not None and not _date(info["time"]):
            check.fail(f"commit_info's time {terminal(repr(info['time'])[:60])} is not an ISO 8601 time")
    return suite


def _check_rounds(check: _Checker, bench: dict, name: str) -> None:
    stats, extra = bench["stats"], bench["extra_info"]
    data = check.times(stats.get("data"), "stats.data", name, required=True)
    for field, value in stats.items():
        if field != "data" and _number(value) and not math.isfinite(value):
            check.fail(f"stats.{field} is {value!r}, not a finite number", name)
    model = check.times(extra.get("cpu_round_s"), "extra_info.cpu_round_s", name)
    if model is not None and len(model) != len(data):
        check.fail(f"{len(model)} CPU-time rounds for {len(data)} rounds", name)
    for field in ("reference_round_s", "reference_cpu_round_s"):
        reference = check.times(extra.get(field), f"extra_info.{field}", name)
        if reference and len(reference) not in (len(data), len(data) + 1):
            check.fail(f"{len(data)} rounds but {len(reference)} reference rounds in {field}", name)
    for field in ("first_step_s", "build_s"):
        check.times(extra.get(field), f"extra_info.{field}", name)


def _check_extra(check: _Checker, extra: dict, name: str) -> None:
    for field in _POSITIVE:
        value = extra.get(field)
        if value is not None and (not _finite(value) or value <= 0):
            check.fail(f"extra_info.{field} is {value!r}, not a finite positive number", name)
    for field in _COUNTS:
        value = extra.get(field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            check.fail(f"extra_info.{field} is {value!r}, not a count", name)
    for field in _STRINGS:
        check.typed(extra, field, (str,), "extra_info's", name)
    accuracy = extra.get("test_accuracy")
    if accuracy is not None and (not _finite(accuracy) or not 0 <= accuracy <= 1):
        check.fail(f"extra_info.test_accuracy is {accuracy!r}, not a fraction from 0 to 1", name)
    for field in ("rss_growth_bytes", "peak_rss_bytes", "device_peak_bytes", "rss_probe_version"):
        value = extra.get(field)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            check.fail(f"extra_info.{field} is {value!r}, not a whole number", name)
    capabilities = check.typed(extra, "capabilities", (dict,), "extra_info's", name)
    for api, verdicts in (capabilities or {}).items():
        if not isinstance(verdicts, dict) or any(
            not (isinstance(v, str) or (_finite(v) and v >= 0)) for v in verdicts.values()
        ):
            check.fail(f"extra_info.capabilities[{terminal(repr(api))}] is not a table of verdicts", name)
    log = check.typed(extra, "epoch_log", (list,), "extra_info's", name)
    for epoch in log or []:
        if not isinstance(epoch, dict) or any(
            value is not None and not (_finite(value) and value >= 0) for value in epoch.values()
        ):
            check.fail("extra_info.epoch_log holds an epoch that is not finite non-negative figures", name)
        if not 0 <= epoch.get("test_accuracy", 0) <= 1:
            check.fail("extra_info.epoch_log holds a test accuracy outside 0 to 1", name)
    for field, value in extra.items():
        if _number(value) and not math.isfinite(value):
            check.fail(f"extra_info.{field} is {value!r}, not a finite number", name)


def _first_non_finite(value, where: str) -> str | None:
    """Where in ``value`` (parsed JSON) the first NaN, Infinity, number too large for a float or text that is
    not Unicode (a lone surrogate) is, or None: JSON has none of them, and no results file may hold one."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not _finite(value):
        return where
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return where
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((f"[{index}]", item) for index, item in enumerate(value))
    else:
        return None
    for key, item in items:
        if isinstance(key, str) and not key.startswith("["):
            if _first_non_finite(key, where):
                return f"{where} (a key)"
            key = f".{key}"
        found = _first_non_finite(item, f"{where}{key}")
        if found:
            return found
    return None


def _check_benchmark(check: _Checker, bench, seen: set[str]) -> None:
    if not isinstance(bench, dict) or not {"name", "params", "stats", "extra_info"} <= bench.keys():
        check.fail(f"benchmark entry {terminal(str(bench)[:60])!r} lacks name, params, stats or extra_info")
    name = bench["name"]
    if not isinstance(name, str) or not name.strip():
        check.fail(f"a benchmark's name is {terminal(repr(name)[:60])}, not a name")
    if len(name) > NAME_LIMITS["benchmark"] or "\x00" in name or _first_non_finite(name, "name"):
        check.fail(f"the name is over {NAME_LIMITS['benchmark']} characters, holds a NUL or is not Unicode", name)
    if name in seen:
        check.fail("named twice in one file: each benchmark once, please", name)
    seen.add(name)
    for field, kinds in (("stats", (dict,)), ("extra_info", (dict,))):
        check.typed(bench, field, kinds, "its", name, nullable=False)
    params = check.typed(bench, "params", (dict,), "its", name, nullable=False)
    # every benchmark of the suite names its cell: the architecture, and the API (the capability table is per
    # architecture); the reports place each row by them
    for field in ("arch", "api") if not name.startswith("test_capabilities") else ("arch",):
        value = check.typed(params, field, (str,), "params'", name, nullable=False)
        if not value.strip() or "\x00" in value:
            check.fail(f"params' {field} is empty or holds a NUL", name)
    check.typed(bench, "param", (str,), "its", name)
    for field in ("stats", "extra_info", "params"):
        where = _first_non_finite(bench[field], field)
        if where:
            check.fail(f"{terminal(where)[:120]} is NaN, Infinity, too large or not Unicode: figures must be finite numbers", name)
    _check_rounds(check, bench, name)
    _check_extra(check, bench["extra_info"], name)
    kind = name.split("[", 1)[0].removeprefix("test_")
    missing = [field for field in REQUIRED.get(kind, ()) if bench["extra_info"].get(field) is None]
    if missing:
        check.fail(f"extra_info lacks {', '.join(missing)}, which bench run writes for every {kind} benchmark", name)


def check(results, path: str) -> None:
    """ResultsError unless ``results`` (parsed JSON of ``path``) is a usable results file of this suite."""
    checker = _Checker(path)
    if not isinstance(results, dict) or not isinstance(results.get("benchmarks"), list):
        checker.fail("not a pytest-benchmark results file (no 'benchmarks' list)")
    where = _first_non_finite({key: value for key, value in results.items() if key != "benchmarks"}, "")
    if where:
        checker.fail(f"{terminal(where or 'a key')[:120]} is NaN, Infinity, too large or not Unicode")
    _check_suite(checker, results)
    seen: set[str] = set()
    for bench in results["benchmarks"]:
        _check_benchmark(checker, bench, seen)
