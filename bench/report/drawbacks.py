"""Each API's drawbacks, by kind and cause, and the choice they make: what the answer recommends and why.

A drawback is one of four kinds, weighted as docs/method.md states (:data:`WEIGHTS`):

- a **hard limit**: the API cannot do it, with no way around it in the model's code;
- a **speed or memory** difference: settled (the 95% CIs apart) and 5% or more against the fastest API on
  a backend (not only against Functional), or a first step / peak memory over the least by their slack;
- a **workaround**: a line or two, named in the answer and tested (``REMEDIES``, tests/test_remedies.py);
- a **probe set-up**: a verdict the probe's own set-up made (results recorded before the probe was fixed):
  listed, never counted.

One cause counts once: the rows that share a cause (every export that needs a call first, every .keras load
that needs the model's classes, every ◐ that nested custom layers make) are one drawback, at the weight of
its heaviest kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.core import ratios
from bench.core.capability_names import (
    CALL_FIRST,
    CAUSES,
    EXPORT_ROWS,
    HARD_LIMITS,
    MODEL_PARALLEL_BY_FUNCTIONAL_PATHS,
    NESTED_LAYERS,
    NESTED_MARKER,
    REMEDIES,
    SHORT_NAMES,
)
from bench.core.kinds import TIMED
from bench.core.ratios import NOISE_FLOOR, Ratio

HARD, SPEED, WORKAROUND, SETUP = "hard limit", "speed or memory", "workaround", "probe set-up"
#: the weight of each kind of drawback in the choice of an API
WEIGHTS = {HARD: 3, SPEED: 2, WORKAROUND: 1, SETUP: 0}
#: how the answer states the weights
WEIGHT_LEGEND = "hard limit 3, speed or memory 2, workaround 1, a cause once"
#: causes with a way around them in a line or two, whatever row shows them
WORKAROUND_CAUSES = (CALL_FIRST, NESTED_LAYERS)


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
    cause = CAUSES.get(probe, name)
    if probe in HARD_LIMITS:
        return Drawback(HARD, cause, text)
    if cause in WORKAROUND_CAUSES or probe in REMEDIES or probe in CAUSES:
        return Drawback(WORKAROUND, cause, text)
    return Drawback(HARD, cause, text)


def speed_drawbacks(frame, backend: str, arch: str, apis: list[str]) -> dict[str, list[Drawback]]:
    """Per API, the benchmark kinds in which it is settled-slower by the noise floor or more than the
    fastest API of the backend: one cause per backend ("slower on torch")."""
    found: dict[str, list[Drawback]] = {api: [] for api in apis}
    for kind, label in TIMED:
        measured = {api: r for api in apis if isinstance(r := ratios.to_functional(frame, backend, arch, api, kind), Ratio)}
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
