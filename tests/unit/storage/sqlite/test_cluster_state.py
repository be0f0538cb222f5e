"""The clusterer's state in SQLite as the embedded runtime keeps it (a savepoint per article,
a commit per batch, document frequencies packed and folded): a restart over the file
continues exactly as one uninterrupted run over a plain dict."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.processing.cluster.clusterer import Assignment, StoryClusterer
from pipeline.storage.sqlite import kv
from pipeline.storage.sqlite.store import SqliteStore
from tests.unit.processing.cluster.test_cluster import run, synthetic

WINDOW = timedelta(days=2)
BATCH = 5


def clusterer(state: Any) -> StoryClusterer:
    return StoryClusterer(state, window=WINDOW, retention=WINDOW * 2)


@pytest.mark.parametrize("cut", [23, 61])
def test_restart_over_the_sqlite_state_continues_identically(
        cut: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kv, "COMPACT_AFTER", 3)  # fold several times in 90 articles
    articles = synthetic(90)
    whole = run(clusterer({}), articles)
    parts: list[Assignment] = []
    for part in (articles[:cut], articles[cut:]):  # each part a process of its own
        store = SqliteStore(tmp_path / "db.sqlite")
        state = store.mapping("cluster")
        assign = clusterer(state).assign
        for start in range(0, len(part), BATCH):
            store.begin()
            for article in part[start:start + BATCH]:
                state.savepoint()
                parts.append(assign(article, []))
            store.commit()
        store.close()
    assert [r.story.model_dump() for r in parts] == [r.story.model_dump() for r in whole]
    assert [(r.is_new, r.near_duplicate_of, r.merged) for r in parts] == [
        (r.is_new, r.near_duplicate_of, r.merged) for r in whole]
    store = SqliteStore(tmp_path / "db.sqlite")
    packed = [k for (k,) in store.conn.execute("SELECT key FROM kv WHERE ns='cluster#packed'")]
    assert any(k.startswith("base:") for k in packed)
    assert not store.conn.execute("SELECT 1 FROM kv WHERE ns='cluster' AND key LIKE 'df:%'"
                                  ).fetchone()
