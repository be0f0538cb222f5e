"""The clusterer's state stays bounded on a long synthetic stream (benchmarks/synthetic.py).

A few thousand articles at a low daily rate with a short window and retention go through
many close and purge cycles: the state must stop growing once the stream is longer than
the retention, stay under 2.25 KB per article it holds, and keep nothing of purged stories.
(At the very start, when every story is still open, it is ~2.3 KB per article: open
stories carry centroids, postings and MinHash signatures that closing drops.)
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

from benchmarks.synthetic import NewsStream
from pipeline.processing.cluster.clusterer import StoryClusterer, prepare_features

# Bytes of state per article held: 2 KB (issue #7) plus the archive of closed stories that
# late reports can still join (issue #15), ~200 B per article held here, where a day of
# closed stories waits out a retention as long as the stream it is measured on.
LIMIT = 2304


def state_bytes(state: dict[str, Any]) -> int:
    return sum(len(k) + len(json.dumps(v, separators=(",", ":"))) for k, v in state.items())


def test_state_is_bounded_by_retention_not_history() -> None:
    state: dict[str, Any] = {}
    clusterer = StoryClusterer(state, window=timedelta(hours=12), retention=timedelta(days=1))
    stream = NewsStream(seed=3, per_day=600).articles(3600)  # six days
    days: list[Counter[str]] = []
    assigned, per_held = [], []
    for i, article in enumerate(stream, 1):
        assigned.append((article.id, clusterer.assign(article, [], prepare_features(article))))
        if i % 600 == 0:
            days.append(Counter(k.split(":", 1)[0] for k in state))
            per_held.append(state_bytes(state) / days[-1]["a"])
    assert max(per_held[2:]) < LIMIT  # once stories close and are purged as they would
    assert all(day["a"] < 1200 for day in days)  # ~ window + retention of articles, not all
    assert max(day["s"] for day in days[2:]) < 1.5 * max(day["s"] for day in days[:2])
    first_day = {a for a, _ in assigned[:500]}
    assert not first_day & {k[2:] for k in state if k.startswith("a:")}  # purged
    stories = {r.story.id for _, r in assigned[:500]}
    assert not [k for k in state if k.partition(":")[2] in stories]
    assert all("g" not in v for k, v in state.items() if k.startswith("a:")
               and state.get("v:" + v["s"], {}).get("closed"))  # closed: no signature left
    orphans = [k for k, v in state.items()
               if (k.startswith("a:") and "s:" + v["s"] not in state)
               or (k.startswith("v:") and "s:" + k[2:] not in state)
               or (k.startswith("al:") and "s:" + clusterer_root(state, v) not in state)]
    assert not orphans  # everything kept belongs to a story still held


def clusterer_root(state: dict[str, Any], story_id: str) -> str:
    while "al:" + story_id in state:
        story_id = state["al:" + story_id]
    return story_id
