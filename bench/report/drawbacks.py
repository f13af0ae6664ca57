"""Each API's drawbacks, by kind and cause, and the choice they make: what the answer recommends and why.

A drawback is one of four kinds, weighted as docs/method.md states (:data:`WEIGHTS`):

- a **hard limit**: the API cannot do it, with no way around it in the model's code;
- a **speed or memory** difference: settled (the 95% CIs apart) and 5% or more against the fastest API on
  a backend (not only against Functional), or a first step / peak memory over the least by their slack;
- a **workaround**: a line or two, named in the answer and tested (``REMEDIES``, tests/test_remedies.py);
- a **probe set-up**: a verdict the probe's own set-up made (results recorded before the probe was fixed):
  listed, never counted.

The figures come from a report's analysis (:mod:`bench.report.analysis`): ``analysis`` below is one,
read through ``analysis.ratio`` and ``analysis.cells``.

One cause counts once: the rows that share a cause (every export that needs a call first, every .keras load
that needs the model's classes, every ◐ that nested custom layers make) are one drawback, at the weight of
its heaviest kind.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench.core import results as results_io
from bench.core.capability_names import (
    CALL_FIRST,
    CAUSES,
    CLASSES_NEEDED,
    EXPORT_ROWS,
    HARD_LIMITS,
    MODEL_PARALLEL_BY_FUNCTIONAL_PATHS,
    NESTED_LAYERS,
    NESTED_MARKER,
    NO_RESIDUAL,
    REMEDIES,
    RESIDUAL_TOPOLOGY,
    SHORT_NAMES,
)
from bench.core.kinds import TIMED
from bench.core.ratios import BASE_API, NOISE_FLOOR, Ratio

HARD, SPEED, WORKAROUND, SETUP = "hard limit", "speed or memory", "workaround", "probe set-up"
#: the weight of each kind of drawback in the choice of an API
WEIGHTS = {HARD: 3, SPEED: 2, WORKAROUND: 1, SETUP: 0}
#: how the answer states the weights
WEIGHT_LEGEND = "hard limit 3, speed or memory 2, workaround 1, a cause once"
#: causes with a way around them in a line or two, whatever row shows them
WORKAROUND_CAUSES = (CALL_FIRST, NESTED_LAYERS)
#: what Keras says when a .keras file names a class that is neither registered nor imported
UNREGISTERED_CLASS = "Could not locate class"


@dataclass(frozen=True)
class Drawback:
    kind: str
    cause: str
    text: str

    @property
    def weight(self) -> int:
        return WEIGHTS[self.kind]


def capability_drawback(probe: str, verdict: str, where: str = "") -> Drawback:
    """The kind and cause of a capability row an API does worse in than another API."""
    name = SHORT_NAMES.get(probe, probe)
    text = f"no {name}{where}"
    if probe == MODEL_PARALLEL_BY_FUNCTIONAL_PATHS:
        return Drawback(SETUP, "a LayoutMap keyed by another model's paths", text)
    if NESTED_MARKER in str(verdict):
        return Drawback(WORKAROUND, NESTED_LAYERS, text)
    if probe in EXPORT_ROWS and str(verdict).startswith("only after a call"):
        return Drawback(WORKAROUND, CALL_FIRST, text)
    if UNREGISTERED_CLASS in str(verdict):  # any row whose .keras load could not find the model's class
        return Drawback(WORKAROUND, CLASSES_NEEDED, text)
    cause = CAUSES.get(probe, name)
    if probe in HARD_LIMITS:
        return Drawback(HARD, cause, text)
    if cause in WORKAROUND_CAUSES or probe in REMEDIES or probe in CAUSES:
        return Drawback(WORKAROUND, cause, text)
    return Drawback(HARD, cause, text)


def speed_drawbacks(analysis, backend: str, arch: str, apis: list[str]) -> dict[str, list[Drawback]]:
    """Per API, the benchmark kinds in which it is settled-slower by the noise floor or more than the
    fastest API of the backend: one cause per backend ("slower on torch")."""
    found: dict[str, list[Drawback]] = {api: [] for api in apis}
    for kind, label in TIMED:
        measured = {api: r for api in apis if isinstance(r := analysis.ratio(backend, arch, api, kind), Ratio)}
        if len(measured) < 2:
            continue
        fastest = min(measured, key=lambda api: measured[api].ratio)
        quick = measured[fastest]
        for api, r in measured.items():
            excess = r.ratio / quick.ratio - 1
            if api != fastest and excess >= NOISE_FLOOR and r.low > quick.high:
                text = f"{label} {excess:.0%} slower than {fastest} on {backend}"
                found[api].append(Drawback(SPEED, f"slower on {backend}", text))
    return found


def score(drawbacks: list[Drawback]) -> int:
    """The weight of an API's drawbacks: each cause once, at its heaviest kind's weight."""
    heaviest: dict[str, int] = {}
    for drawback in drawbacks:
        heaviest[drawback.cause] = max(heaviest.get(drawback.cause, 0), drawback.weight)
    return sum(heaviest.values())


def by_cause(drawbacks: list[Drawback]) -> list[tuple[str, str, list[str]]]:
    """(kind, cause, the rows' texts) per cause counted, heaviest first; set-up verdicts last."""
    grouped: dict[str, list[Drawback]] = {}
    for drawback in drawbacks:
        grouped.setdefault(drawback.cause, []).append(drawback)
    rows = [(max(items, key=lambda d: d.weight).kind, cause, [d.text for d in items])
            for cause, items in grouped.items()]  # fmt: skip
    return sorted(rows, key=lambda row: -WEIGHTS[row[0]])


def describe(drawbacks: list[Drawback]) -> str:
    """'hard limit: residual as graph edges; workaround: nested custom layers (summary shapes, get_layer reach)'."""
    parts = []
    for kind, cause, texts in by_cause(drawbacks):
        counted = "" if WEIGHTS[kind] else ", not counted"
        detail = "; ".join(texts) if len(texts) > 1 or texts[0] != f"no {cause}" else ""
        parts.append(f"{kind}{counted}: {cause}" + (f" ({detail})" if detail and detail != cause else ""))
    return "; ".join(parts)


def tally(drawbacks: list[Drawback]) -> str:
    """'2 hard limits, 1 speed or memory, 3 workarounds': the causes counted, by kind (set-ups left out)."""
    kinds = [kind for kind, _, _ in by_cause(drawbacks) if WEIGHTS[kind]]
    plural = {HARD: "hard limits", SPEED: "speed or memory", WORKAROUND: "workarounds"}
    return ", ".join(f"{kinds.count(k)} {plural[k] if kinds.count(k) > 1 else k}" for k in dict.fromkeys(kinds)) \
        or "only probe set-ups"


@dataclass(frozen=True)
class Choice:
    """The API to use (several where tied), and the weights that decided."""

    apis: list[str]
    scores: dict[str, int]
    shorter: str | None  # among tied APIs, the one with the fewest lines of code

    @property
    def best(self) -> str:
        return self.shorter or self.apis[0]

    @property
    def tied(self) -> bool:
        return len(self.apis) > 1


def choose(found: dict[str, list[Drawback]], lines: dict[str, int]) -> Choice:
    """The APIs of least weighted drawbacks; where several tie, the one of fewest lines of code is named."""
    scores = {api: score(items) for api, items in found.items()}
    least = min(scores.values())
    winners = [api for api in found if scores[api] == least]
    counted = [api for api in winners if api in lines]
    shorter = min(counted, key=lambda api: lines[api]) if len(winners) > 1 and counted else None
    return Choice(winners, scores, shorter)


def headline(choice: Choice, label) -> str:
    """'use Functional' or 'tie: Sequential or Functional; Sequential is shorter'."""
    if not choice.tied:
        return f"use {label(choice.best)}"
    names = " or ".join(label(api) for api in choice.apis)
    return f"tie: {names}" + (f"; {label(choice.shorter)} is shorter" if choice.shorter else "")


# a first step this much longer than the quickest API's counts as a drawback: one fresh process per cell,
# whose first step varies widely from one process to the next, so less would be noise
FIRST_STEP_SLACK = 0.5
MEMORY_SLACK = 0.15  # likewise for peak RSS growth


def keras_guide(capabilities: dict[str, dict[str, str]]) -> tuple[str, str] | None:
    """(API, why) that Keras' guides point to for ``arch``: Sequential for a plain stack of single-input,
    single-output layers, Functional for other topologies (skip connections, several inputs or outputs),
    subclassing for models that need Python control flow in call().  The topology is the Functional
    model's recorded "residual topology" verdict; None where the run recorded none."""
    graphs = [api for api in (BASE_API, "functional_subclass", "sequential") if api in capabilities]
    topology = capabilities[graphs[0]].get(RESIDUAL_TOPOLOGY) if graphs else None
    if topology is None:
        return None  # the run probed no capabilities (or no graph model): the topology is not recorded
    if topology == NO_RESIDUAL:
        return "sequential", "a plain stack of layers"
    if "merge layer" in topology:
        return BASE_API, "branches joined in the graph: not a plain stack"
    if topology.startswith("via custom layer") and "sequential" in capabilities:
        return "sequential", "a plain stack of layers: the file's Sequential expresses it"
    if topology.startswith("via custom layer"):
        return BASE_API, "custom layers that may join branches inside: no Sequential given to show a plain stack"
    if topology.startswith("none"):  # a graph of several inputs or outputs, nothing merged
        return BASE_API, "several inputs or outputs: not a plain stack"
    return BASE_API, "skip connections: not a plain stack"


def verdict_class(value) -> int | None:
    """2 for a capability that works, 1 for partly / through a workaround, 0 for no; None: not a verdict."""
    text = str(value).lower()
    if text.startswith(("yes", "native")):
        return 2
    if text.startswith(("partly", "via", "only")):
        return 1
    if text.startswith("none"):
        return None  # "none in this architecture": nothing to do, not a "no"
    if text.startswith("no"):
        return 0
    return None


def first_step_of(analysis, backend, arch, api) -> tuple[float | None, float | None]:
    row = analysis.cells("first_step_and_memory").get((backend, arch, api))
    if row is None:
        return None, None
    growth, _ = results_io.rss_growth(row.extra)
    return float(np.median(row.extra["first_step_s"])), (growth / 2**20 if growth is not None else None)


#: first steps per cell needed before a first-step difference can count as a drawback
MIN_FIRST_STEPS = 3


def _settled(analysis, backend, arch, api, quickest, index: int) -> bool:
    """Whether ``api``'s first step (index 0) or peak memory (1) over ``quickest``'s counts: each cell probed
    in :data:`MIN_FIRST_STEPS` fresh processes or more, and (first steps) every one of ``api``'s slower than
    every one of ``quickest``'s."""
    rows = analysis.cells("first_step_and_memory")
    mine, theirs = (list(rows[(backend, arch, a)].extra.get("first_step_s") or []) for a in (api, quickest))
    enough = min(len(mine), len(theirs)) >= MIN_FIRST_STEPS
    return enough and (index == 1 or min(mine) > max(theirs))


def accuracy_of(analysis, backend, arch, api) -> float | None:
    row = analysis.cells("accuracy").get((backend, arch, api))
    return row.extra["test_accuracy"] if row is not None else None


def capability_gaps(capabilities: dict[str, dict[str, str]], api: str) -> list[tuple[str, str]]:
    """(probe, verdict) of the probes in which ``api`` does worse than the best API of the same architecture."""
    gaps = []
    for probe, value in capabilities.get(api, {}).items():
        mine = verdict_class(value)
        others = [verdict_class(c.get(probe)) for c in capabilities.values()]
        best = max((o for o in others if o is not None), default=None)
        if mine is not None and best is not None and mine < best:
            gaps.append((probe, str(value)))
    return gaps


def drawbacks(analysis, backends, arch, capabilities_by_backend) -> dict[str, list[Drawback]]:
    """Per API, its drawbacks by kind and cause (:mod:`bench.report.drawbacks`).

    - speed: settled-slower by the noise floor or more than the fastest API of a backend, per kind;
    - first step and peak memory: over the quickest / smallest API by 50% / 15%, only where each cell was
      probed in :data:`MIN_FIRST_STEPS` fresh processes (first steps all apart);
    - capabilities: a probe where it does worse than another API (once per probe, naming the backends
      where it differs);
    - accuracy: more than 0.01 below the best API on the same backend (deterministic runs only).
    """
    apis = analysis.apis[arch]
    found: dict[str, list[Drawback]] = {api: [] for api in apis}
    for backend in backends:
        for api, items in speed_drawbacks(analysis, backend, arch, apis).items():
            found[api] += items
        firsts = {api: first_step_of(analysis, backend, arch, api) for api in apis}
        for index, (label, slack) in enumerate(
            (("first step", FIRST_STEP_SLACK), ("peak RSS", MEMORY_SLACK))
        ):
            values = {api: v[index] for api, v in firsts.items() if v[index] is not None}
            if len(values) < 2:
                continue
            quickest = min(values, key=values.get)
            least = values[quickest]
            for api, value in values.items():
                if least > 0 and value > least * (1 + slack):
                    if not _settled(analysis, backend, arch, api, quickest, index):
                        continue  # one fresh process each: a single first step or RSS is not settled
                    text = f"{label} ×{value / least:.2f} of the least on {backend}"
                    found[api].append(Drawback(SPEED, f"{label} on {backend}", text))
        scores = {api: accuracy_of(analysis, backend, arch, api) for api in apis}
        scores = {api: s for api, s in scores.items() if s is not None}
        accuracy_rows = analysis.cells("accuracy")
        if not all(accuracy_rows[(backend, arch, api)].extra.get("deterministic") for api in scores):
            scores = {}  # without deterministic ops, accuracy differences are run-to-run variation
        for api, score in scores.items():
            if max(scores.values()) - score > 0.01:
                text = f"test accuracy {score:.3f} vs {max(scores.values()):.3f} on {backend}"
                found[api].append(Drawback(SPEED, f"accuracy on {backend}", text))
    lacking: dict[str, dict[str, tuple[str, list[str]]]] = {api: {} for api in apis}
    for backend in backends:
        capabilities = capabilities_by_backend.get(backend, {})
        for api in apis:
            for probe, verdict in capability_gaps(capabilities, api):
                lacking[api].setdefault(probe, (verdict, []))[1].append(backend)
    for api, gaps in lacking.items():
        every = len(backends)
        found[api] += [
            capability_drawback(probe, verdict, "" if len(where) == every else f" on {', '.join(where)}")
            for probe, (verdict, where) in gaps.items()
        ]
    return found


def lines_of_code(by_backend: dict[str, dict[str, dict]]) -> dict[str, int]:
    """API -> lines of code, as the capability probes of any backend recorded them."""
    return {
        api: probes["lines of code"]
        for caps in by_backend.values()
        for api, probes in caps.items()
        if isinstance(probes.get("lines of code"), int)
    }
