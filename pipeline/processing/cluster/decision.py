"""Does an article belong to a story? Evidence, pair features, and a small logistic model.

    article ─┬─ vector, title vector ──cosines with the story's centroids──┐
             ├─ evidence (who / where / when / how many, evidence.py) ─────┼─▶ features ─▶ P(same)
             └─ time ───────── days beyond the story's span, archived? ───┘

Agreement on who / where / when / how many joins; a conflict (another town, another day,
another magnitude) separates two similar events even when their words match; so, by
degree, do names each side never mentions (``who_novel``: the Indian navy's INS Mysore and
its INS Sukanya share "Indian" and "navy" but not the ship). Magnitudes and money amounts
are compared apart (a quake's 5.2 says nothing of a $160m deal). The weights
come from ``model.json`` beside this module, fitted on the dev sets by
``evaluation/fit_story_model.py`` (its threshold chosen by cross-validation over ECB+
topics and GVA incidents). ``Match`` is the record of one comparison: the probability, the
shared and conflicting evidence; the clusterer returns the winning one with the assignment.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODEL_PATH = Path(__file__).with_name("model.json")
NAMED = ("who", "where")  # evidence that may be mentioned anywhere in the other side
QUANTITIES = (  # (evidence kind, feature name, value prefix)
    ("count", "count", ""), ("measure", "magnitude", "m:"), ("measure", "measure", "$:"),
    ("age", "age", ""),
)
FEATURES = (
    "body", "title", "who_shared", "who_conflict", "where_shared", "where_conflict",
    "day_agree", "day_conflict", "year_conflict", "weekday_agree", "weekday_conflict",
    "count_agree", "count_conflict", "measure_agree", "measure_conflict", "age_agree",
    "age_conflict", "headline_conflict", "gap", "archived", "near",
    "who_novel", "where_novel", "magnitude_agree", "magnitude_conflict", "title_novel",
)



@dataclass(frozen=True)
class Model:
    """Logistic weights over ``FEATURES`` (+ bias) and the decision thresholds."""

    weights: dict[str, float]
    bias: float
    threshold: float = 0.5  # join the most probable story at or above this
    merge: float = 0.9  # an article this probable for two stories may merge them

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> Model:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(dict(data["weights"]), float(data["bias"]), float(data["threshold"]),
                   float(data["merge"]))

    def probability(self, x: Mapping[str, float]) -> float:
        """P(same event) for pair features ``x`` (absent features are 0)."""
        z = self.bias + sum(self.weights.get(f, 0.0) * v for f, v in x.items())
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass
class Match:
    """Why an article scored what it did against one story (shown by ``explain``)."""

    story: str
    score: float  # probability that the article reports the story's event
    shared: dict[str, list[str]] = field(default_factory=dict)  # kind → values on both sides
    conflicts: dict[str, list[str]] = field(default_factory=dict)  # kind → the article's values
    features: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"story": self.story, "score": round(self.score, 4), "shared": self.shared,
                "conflicts": self.conflicts}


def _split(values: Sequence[str], prefix: str) -> list[str]:
    return [v for v in values if v.startswith(prefix)]


@dataclass(frozen=True, slots=True)
class Side:
    """One side's evidence split by kind and prefix once (``side``), for comparing it with
    many stories: the article's side of ``compare`` does not change between candidates."""

    named: tuple[tuple[str, list[str]], ...]  # (kind, values) for NAMED
    when: tuple[tuple[str, str, list[str]], ...]  # (prefix, feature name, values)
    quantities: tuple[tuple[str, str, str, list[str]], ...]  # (kind, name, prefix, values)


_WHEN = (("d:", "day"), ("y:", "year"), ("w:", "weekday"))


def side(evidence: Mapping[str, Sequence[str]]) -> Side:
    """``evidence`` prepared for ``compare_side``."""
    when = evidence.get("when") or []
    return Side(
        tuple((kind, list(evidence.get(kind) or [])) for kind in NAMED),
        tuple((prefix, name, _split(when, prefix)) for prefix, name in _WHEN),
        tuple((kind, name, prefix, _split(evidence.get(kind) or [], prefix))
              for kind, name, prefix in QUANTITIES),
    )


def compare(
    mine: Mapping[str, Sequence[str]],
    mine_vector: Mapping[str, float],
    theirs: Mapping[str, Sequence[str]],
    their_vector: Mapping[str, float],
) -> tuple[dict[str, float], dict[str, list[str]], dict[str, list[str]]]:
    """Evidence features of two sides, and the shared and conflicting values by kind.

    Names agree when one side's name is anywhere in the other (its evidence or vector), and
    conflict when both sides name some and neither mentions any of the other's. Days, years,
    weekdays and quantities conflict when both sides state some and none in common.
    """
    return compare_side(side(mine), mine_vector, theirs, their_vector)


def compare_side(
    mine: Side,
    mine_vector: Mapping[str, float],
    theirs: Mapping[str, Sequence[str]],
    their_vector: Mapping[str, float],
) -> tuple[dict[str, float], dict[str, list[str]], dict[str, list[str]]]:
    """``compare`` with this side prepared (``side``): the same features, in the same order."""
    x: dict[str, float] = {}
    shared: dict[str, list[str]] = {}
    conflicts: dict[str, list[str]] = {}
    for kind, a in mine.named:
        if not a:
            continue
        b = theirs.get(kind) or []
        both = [v for v in a if v in their_vector or v in b]
        if b:  # how much of each side the other never mentions
            x[kind + "_novel"] = (1 - len(both) / len(a)) * (
                1 - sum(1 for v in b if v in mine_vector or v in a) / len(b))
        if both:
            shared[kind] = both
            x[kind + "_shared"] = min(len(both), 3) / 3
        elif b and not any(v in mine_vector for v in b):
            conflicts[kind] = list(a)
            x[kind + "_conflict"] = 1.0
    when_b: dict[str, list[str]] | None = None  # their days, years, weekdays by prefix
    for prefix, name, a in mine.when:
        if not a:
            continue
        if when_b is None:
            when_b = {}
            for v in theirs.get("when") or []:  # split once (every prefix is 2 characters)
                when_b.setdefault(v[:2], []).append(v)
        days = when_b.get(prefix)
        if not days:
            continue
        both = [v for v in a if v in days]
        if both:
            shared.setdefault("when", []).extend(both)
            x[name + "_agree"] = 1.0
        else:
            conflicts.setdefault("when", []).extend(a)
            x[name + "_conflict"] = 1.0
    for kind, name, prefix, a in mine.quantities:
        if not a:
            continue
        b = [v for v in theirs.get(kind) or [] if v.startswith(prefix)]
        if not b:
            continue
        both = [v for v in a if any(_same_quantity(v, w) for w in b)]
        if both:
            shared.setdefault(kind, []).extend(both)
            x[name + "_agree"] = 1.0
        else:
            conflicts.setdefault(kind, []).extend(a)
            x[name + "_conflict"] = 1.0
    x.pop("year_agree", None)  # background years agree by chance: only conflicts count
    return x, shared, conflicts


def _same_quantity(a: str, b: str) -> bool:
    """Equal, or for magnitudes within 0.2 and amounts of one scale within 10 %: first
    reports round or revise them ("5.6" then "5.7")."""
    if a == b:
        return True
    if a[:2] != b[:2] or a[:2] not in ("m:", "$:") or a[-1:].isdigit() != b[-1:].isdigit():
        return False
    scale = "" if a[-1:].isdigit() else a[-1]
    if scale != ("" if b[-1:].isdigit() else b[-1]):
        return False
    try:
        x, y = float(a[2:].rstrip(scale)), float(b[2:].rstrip(scale))
    except ValueError:
        return False
    return abs(x - y) <= 0.2 if a[:2] == "m:" else abs(x - y) <= 0.1 * max(x, y)


def gap_days(event: float | None, first: float | None, last: float | None) -> float:
    """Days between a dated article and a story's span of dates (0 inside it or if undated)."""
    if event is None or first is None or last is None:
        return 0.0
    gap = first - event if event < first else max(0.0, event - last)
    return gap / 86400.0


def merge_evidence(into: dict[str, list[str]], new: Mapping[str, Sequence[str]], cap: int) -> None:
    """Add ``new`` values to a story's evidence, at most ``cap`` per kind (first kept)."""
    for kind, values in new.items():
        kept = into.setdefault(kind, [])
        kept.extend(v for v in values if v not in kept and len(kept) < cap)
