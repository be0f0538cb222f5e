"""How alike an article and a story are: IDF-weighted cosines and a time discount.

    score = (BODY · cos(article, story centroid) + TITLE · cos(title, story titles)) × time

IDF comes from document frequencies counted as the stream goes, so weights adapt to what
is common in this stream (boilerplate, the beat's vocabulary) without a fitted model. A
story's centroid is the sum of its articles' unit TF-IDF vectors, weighted with the IDF of
the moment each joined (stored, so a restart scores exactly as before).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping

TITLE_WEIGHT = 0.3
TIME_GRACE_DAYS = 1.0  # no discount within this distance of the story's span
TIME_HALF_LIFE_DAYS = 3.0

Vector = dict[str, float]


def weigh(vector: Mapping[str, float], n_docs: int, df: Mapping[str, int]) -> Vector:
    """TF-IDF with the stream's current counts: IDF = ``log(1 + N / df)``."""
    log = math.log
    return {f: w * log(1.0 + n_docs / df[f]) for f, w in vector.items()}


def norm(vector: Mapping[str, float]) -> float:
    return math.sqrt(sum(w * w for w in vector.values()))


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
    if len(a) > len(centroid):
        dot = sum(w * a[f] for f, w in centroid.items() if f in a)
    else:
        dot = sum(w * centroid[f] for f, w in a.items() if f in centroid)
    return dot / length if dot else 0.0


def add_into(total: dict[str, float], vector: Mapping[str, float], cap: int) -> float:
    """Add ``vector`` to ``total``; past ``cap`` × 1.25 features keep the ``cap`` heaviest.

    Returns the new norm of ``total``.
    """
    for f, w in vector.items():
        total[f] = total.get(f, 0.0) + w
    if len(total) > cap + cap // 4:
        kept = dict(heapq.nlargest(cap, total.items(), key=lambda item: (item[1], item[0])))
        total.clear()
        total.update(kept)
    return norm(total)


def combined(body: float, title: float, title_weight: float = TITLE_WEIGHT) -> float:
    return (1.0 - title_weight) * body + title_weight * title
