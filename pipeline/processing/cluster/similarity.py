"""How alike an article and a story are: IDF-weighted cosines and a time discount.

    score = (BODY · cos(article, story centroid) + TITLE · cos(title, story titles)) × time

IDF comes from document frequencies counted as the stream goes, so weights adapt to what
is common in this stream (boilerplate, the beat's vocabulary) without a fitted model. A
story's centroid is the sum of its articles' unit TF-IDF vectors, weighted with the IDF of
the moment each joined (stored, so a restart scores exactly as before).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from operator import itemgetter, mul

TITLE_WEIGHT = 0.3
TIME_GRACE_DAYS = 1.0  # no discount within this distance of the story's span
TIME_HALF_LIFE_DAYS = 3.0
IDF_RATIO_CAP = 2000  # IDF saturates for features rarer than 1 in this many documents
IDF_PRIOR_DOCS = 50.0  # documents assumed seen before the stream (none of them with a feature):
# a cold stream's first articles then do not make the words they share look common
NAME = "e:"  # prefix of name features

Vector = dict[str, float]
_WEIGHT_THEN_NAME = itemgetter(1, 0)


def idf(n_docs: int, df: int) -> float:
    """``log(1 + N / df)``, smoothed, saturating at ``log(1 + IDF_RATIO_CAP)`` (df 0: unseen).

    Sentences every outlet repeats (templates, boilerplate) are soon in a large share of
    the stream and weigh little; below 1 in ``IDF_RATIO_CAP`` documents all features weigh
    the same, so their exact counts need not be kept (see ``StateStore.prune_df``).
    """
    ratio = (n_docs + 1.0) / (df + 0.5) if df else IDF_RATIO_CAP
    return math.log(1.0 + min(ratio, IDF_RATIO_CAP))


def idfs(features: Iterable[str], n_docs: int, df: Mapping[str, int]) -> dict[str, float]:
    """``idf`` of each feature (missing from ``df``: unseen)."""
    log, get, cap, top = math.log, df.get, IDF_RATIO_CAP, n_docs + 1.0 + IDF_PRIOR_DOCS
    out = {}
    for f in features:
        count = get(f, 0)
        out[f] = log(1.0 + (min(top / (count + 0.5), cap) if count else cap))
    return out


def weigh(vector: Mapping[str, float], idf_of: Mapping[str, float]) -> Vector:
    """TF-IDF: each raw weight times its feature's IDF (``idfs``)."""
    return {f: w * idf_of[f] for f, w in vector.items()}


def names_conflict(
    names_a: Collection[str],
    a: Mapping[str, float],
    names_b: Collection[str],
    b: Mapping[str, float],
) -> bool:
    """Both sides' headlines name places or people, and neither side mentions any of the
    other's: the mark of two different events of one kind (two earthquakes in two towns).

    ``names_a``/``names_b`` are the headline names (``e:`` features), ``a``/``b`` the
    vectors (or centroids) they are looked up in, besides the other side's headline names.
    A side whose headline names nothing is no evidence either way.
    """
    if not names_a or not names_b:
        return False
    if any(f in b or f in names_b for f in names_a):
        return False
    return not any(f in a for f in names_b)


def day_agreement(days_a: list[str], days_b: list[str]) -> int:
    """1 if the two sides name a day in common ("Sunday", "Dec. 11"), -1 if both name days but
    none in common, 0 if one names none: reports of one event name the day it happened."""
    if not days_a or not days_b:
        return 0
    return -1 if set(days_a).isdisjoint(days_b) else 1


def norm(vector: Mapping[str, float]) -> float:
    return math.hypot(*vector.values())


def normalized(vector: Mapping[str, float]) -> Vector:
    length = norm(vector)
    return {f: w / length for f, w in vector.items()} if length else {}


def cosine(a: Mapping[str, float], b: Mapping[str, float]) -> float:
    """Cosine of two sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    dot = sum(w * b[f] for f, w in a.items() if f in b)
    if not dot:
        return 0.0
    return dot / (norm(a) * norm(b))


def time_factor(
    timestamp: float,
    first: float,
    last: float,
    grace: float = TIME_GRACE_DAYS,
    half_life: float = TIME_HALF_LIFE_DAYS,
) -> float:
    """1 inside the story's span (± ``grace`` days), halving every ``half_life`` days beyond."""
    if timestamp < first:
        gap = first - timestamp
    elif timestamp > last:
        gap = timestamp - last
    else:
        gap = 0.0
    days = gap / 86400.0 - grace
    return 1.0 if days <= 0 else 0.5 ** (days / half_life)


def dot_over_norm(a: Mapping[str, float], centroid: Mapping[str, float], length: float) -> float:
    """Cosine of a unit vector ``a`` with ``centroid`` whose norm is ``length``."""
    shared = a.keys() & centroid.keys()
    if not shared:
        return 0.0
    dot = sum(map(mul, map(a.__getitem__, shared), map(centroid.__getitem__, shared)))
    return dot / length if dot else 0.0


def add_into(total: dict[str, float], vector: Mapping[str, float], cap: int) -> float:
    """Add ``vector`` to ``total``; past ``cap`` × 1.25 features keep the ``cap`` heaviest.

    Returns the new norm of ``total``.
    """
    get = total.get
    for f, w in vector.items():
        total[f] = get(f, 0.0) + w
    if len(total) > cap + cap // 4:
        kept = sorted(total.items(), key=_WEIGHT_THEN_NAME, reverse=True)[:cap]
        total.clear()
        total.update(kept)
    return norm(total)


def combined(body: float, title: float, title_weight: float = TITLE_WEIGHT) -> float:
    return (1.0 - title_weight) * body + title_weight * title
