"""SQLite search answers date ranges by Elasticsearch's rounding (the whole boundary day)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.models import EnrichedArticle
from pipeline.storage.sqlite.store import SqliteStore

TIMES = {"before": datetime(2026, 3, 1, 23, 59, 59, tzinfo=UTC),
         "morning": datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
         "evening": datetime(2026, 3, 2, 21, 5, tzinfo=UTC),
         "after": datetime(2026, 3, 3, 0, 0, tzinfo=UTC)}


def test_boundary_days_are_whole(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    store.begin()
    for name, published in TIMES.items():
        store.put_article(EnrichedArticle(
            id=name, url=f"https://x.example/{name}", title=f"Harbour {name}",
            text="The harbour strike goes on.", source="src", published=published,
            topics=[], story_id=f"s-{name}"))
    store.commit()

    def ids(query: str) -> set[str]:
        return {h.id for h in store.search(query, limit=100)}

    assert ids("published:[2026-03-02 TO 2026-03-02]") == {"morning", "evening"}
    assert ids("strike AND published:[* TO 2026-03-02]") == {"before", "morning", "evening"}
    assert ids("published:2026-03-02") == {"morning", "evening"}
    assert ids("published:{2026-03-01 TO 2026-03-03}") == {"morning", "evening"}
    assert ids("published:[2026-03-02T21 TO *]") == {"evening", "after"}
