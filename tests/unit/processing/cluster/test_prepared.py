"""What assignment prepares once per article gives what computing it per candidate gave:
the article's evidence split once (``decision.side``), its salient features found among
the heaviest only (``_heaviest``)."""

from __future__ import annotations

import random
from operator import itemgetter

from pipeline.processing.cluster.clusterer import _heaviest
from pipeline.processing.cluster.decision import (
    _same_quantity,
    _split,
    compare,
    compare_side,
    side,
)


def _reference_compare(mine, mine_vector, theirs, their_vector):  # type: ignore[no-untyped-def]
    """``compare`` as it was written before the article side was prepared once."""
    x, shared, conflicts = {}, {}, {}
    for kind in ("who", "where"):
        a, b = mine.get(kind) or [], theirs.get(kind) or []
        both = [v for v in a if v in their_vector or v in b]
        if a and b:
            x[kind + "_novel"] = (1 - len(both) / len(a)) * (
                1 - sum(1 for v in b if v in mine_vector or v in a) / len(b))
        if both:
            shared[kind] = both
            x[kind + "_shared"] = min(len(both), 3) / 3
        elif a and b and not any(v in mine_vector for v in b):
            conflicts[kind] = list(a)
            x[kind + "_conflict"] = 1.0
    when_a, when_b = mine.get("when") or [], theirs.get("when") or []
    for prefix, name in (("d:", "day"), ("y:", "year"), ("w:", "weekday")):
        a, b = _split(when_a, prefix), _split(when_b, prefix)
        if not a or not b:
            continue
        both = [v for v in a if v in b]
        if both:
            shared.setdefault("when", []).extend(both)
            x[name + "_agree"] = 1.0
        else:
            conflicts.setdefault("when", []).extend(a)
            x[name + "_conflict"] = 1.0
    for kind, name, prefix in (("count", "count", ""), ("measure", "magnitude", "m:"),
                               ("measure", "measure", "$:"), ("age", "age", "")):
        a = [v for v in mine.get(kind) or [] if v.startswith(prefix)]
        b = [v for v in theirs.get(kind) or [] if v.startswith(prefix)]
        if not a or not b:
            continue
        both = [v for v in a if any(_same_quantity(v, w) for w in b)]
        if both:
            shared.setdefault(kind, []).extend(both)
            x[name + "_agree"] = 1.0
        else:
            conflicts.setdefault(kind, []).extend(a)
            x[name + "_conflict"] = 1.0
    x.pop("year_agree", None)
    return x, shared, conflicts


def _evidence(rng: random.Random) -> dict[str, list[str]]:
    pools = {"who": ["e:smith", "e:jones", "e:navy"], "where": ["e:ohio", "e:dayton"],
             "when": ["d:3-4", "d:3-5", "y:2008", "y:2009", "w:monday", "w:sunday"],
             "count": ["k:3", "k:4"],
             "measure": ["m:5.5", "m:5.6", "m:6.5", "$:2m", "$:2.1m", "$:9b"],
             "age": ["a:4", "a:33"]}
    return {k: rng.sample(v, rng.randint(0, len(v))) for k, v in pools.items()
            if rng.random() < 0.8}


def test_a_prepared_side_compares_as_the_whole_comparison_did() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        mine, theirs = _evidence(rng), _evidence(rng)
        vector = {f: 1.0 for f in rng.sample(["e:smith", "e:ohio", "e:navy", "e:dayton"], 2)}
        centroid = {f: 1.0 for f in rng.sample(["e:jones", "e:ohio", "e:smith"], 1)}
        expected = _reference_compare(mine, vector, theirs, centroid)
        got = compare_side(side(mine), vector, theirs, centroid)
        assert got == expected and list(got[0]) == list(expected[0])  # same order too
        assert compare(mine, vector, theirs, centroid) == expected


def test_heaviest_features_are_those_a_full_sort_ranks_first() -> None:
    rng = random.Random(3)
    for _ in range(500):
        n = rng.randint(0, 80)
        vector = {f"f{i:03d}": rng.choice([0.5, 1.0, 1.0, 2.0, rng.random()]) for i in range(n)}
        full = sorted(sorted(vector.items()), key=itemgetter(1), reverse=True)
        for k in (0, 1, 5, 32, 100):
            assert _heaviest(vector, k) == [f for f, _ in full[:k]]
