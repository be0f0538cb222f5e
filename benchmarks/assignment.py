"""Story assignment alone, on one core: how far one (serial) story agent scales.

The eval texts (``text_archive``'s articles, in published order) get their features in
advance (``prepare_features``, the stateless half the process pool computes), then one
``StoryClusterer`` assigns them one by one; CPU time of this process is measured, so the
figure holds on a loaded machine. Two states: a plain dict (the clusterer's own cost) and
the embedded runtime's (the SQLite ``kv`` mapping with a savepoint per article, committed
every ``BATCH`` articles, the flush included, then the heap settled as the runtime does:
``settle_heap``).
"""

from __future__ import annotations

import copy
import gc
import json
import tempfile
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evaluation.paths import eval_dir
from pipeline.models import Article
from pipeline.processing.cluster.clusterer import StoryClusterer, prepare_features
from pipeline.processing.cluster.features import Features
from pipeline.runtime.embedded import settle_heap
from pipeline.storage.sqlite.store import SqliteStore

EVAL = eval_dir() / "clustering"
BATCH = 200  # the embedded runtime's batch
REPEATS = 3  # best round counts: other load on the machine only ever adds


def articles() -> list[Article]:
    """The text case's articles, dated ones in published order (undated: stream time)."""
    rows = []
    for name in ("gva_incidents.jsonl", "ecbplus.jsonl"):
        rows += [json.loads(line) for line in (EVAL / name).read_text().splitlines() if line]
    out, clock = [], datetime(2000, 1, 1, tzinfo=UTC)
    for row in sorted(rows, key=lambda r: str(r.get("published") or "")):
        published = row.get("published")
        when = datetime.fromisoformat(published.replace("Z", "+00:00")) if published else None
        when = when.replace(tzinfo=when.tzinfo or UTC) if when else None
        clock = max(clock, when or clock)
        if not (row.get("text") or "").strip():
            continue
        out.append(Article(id=row["id"], url=f"https://bench.example/{row['id']}",
                           title=row.get("title") or "", text=row["text"], published=when,
                           fetched=clock, source=row.get("source") or "bench"))
    return out


def _run(items: list[Article], features: list[Features], embedded: bool) -> float:
    """CPU seconds to assign ``items`` once, with a fresh state."""
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "state.db")
        mapping = store.mapping("cluster") if embedded else None
        state: MutableMapping[str, Any] = mapping if mapping is not None else {}
        clusterer = StoryClusterer(state)
        fresh = copy.deepcopy(features)  # assign fills nothing in, but keep rounds equal
        start = time.process_time()
        store.begin()
        for n, (article, prepared) in enumerate(zip(items, fresh, strict=True), 1):
            if mapping is not None:
                mapping.savepoint()
            clusterer.assign(article, [], prepared)
            if n % BATCH == 0:
                store.commit()
                if mapping is not None:
                    settle_heap(n // BATCH)
                store.begin()
        store.commit()
        seconds = time.process_time() - start
        store.close()
        gc.unfreeze()
    return seconds


def rows() -> list[tuple[str, dict[str, float]]]:
    items = articles()
    features = [prepare_features(a) for a in items]
    out = []
    for label, embedded in (("dict state", False), ("embedded state: SQLite kv, savepoints", True)):
        cpu = min(_run(items, features, embedded) for _ in range(REPEATS))
        out.append((f"story assignment alone, {label}, 1 core",
                    {"done": len(items), "seconds": cpu, "rate": len(items) / cpu,
                     "cpu_ms_per_assignment": 1000 * cpu / len(items)}))
    return out


if __name__ == "__main__":
    for name, row in rows():
        print(f"{name:56} {row['rate']:7.0f} assignments/s  "
              f"{row['cpu_ms_per_assignment']:.3f} ms CPU each")
