"""An archive is a replay of history: each line arrives at its published time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from evaluation.clustering import articles as live_articles
from evaluation.clustering import order, score, stream, synthetic_rows
from pipeline.models import Article, RawArticle
from pipeline.processing.clean.cleaner import Cleaner
from pipeline.sources.archive import BadLine, ReplayClock, read_archive

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def raw(n: int, published: datetime | None) -> RawArticle:
    return RawArticle(url=f"https://example.com/{n}", title="t", text="x",
                      published=published, source="example.com")


def test_lines_arrive_at_their_published_time_and_undated_ones_at_the_newest_before() -> None:
    clock = ReplayClock()
    first_undated = clock.stamp(raw(0, None))
    assert first_undated.fetched > T0  # nothing dated yet: now
    assert clock.stamp(raw(1, T0)).fetched == T0
    assert clock.stamp(raw(2, T0 + timedelta(days=3))).fetched == T0 + timedelta(days=3)
    assert clock.stamp(raw(3, T0 + timedelta(days=1))).fetched == T0 + timedelta(days=1)
    assert clock.stamp(raw(4, None)).fetched == T0 + timedelta(days=3)  # the newest so far
    future = datetime.now(UTC) + timedelta(days=30)  # a bad date: fetched stays now
    assert clock.stamp(raw(5, future)).fetched < future


def test_an_ingested_archive_makes_the_stories_of_the_live_stream(tmp_path: Path) -> None:
    """Read all at once, the fictional corpus's same-kind events of one town a week apart
    still get their own stories, the same as when the reports arrived one by one."""
    rows = order(synthetic_rows())
    archive = tmp_path / "archive.jsonl"
    archive.write_text("".join(json.dumps({k: r[k] for k in ("id", "title", "text",
                                                             "published", "source")}
                                          | {"url": f"https://example.com/{r['id']}"}) + "\n"
                               for r in rows), encoding="utf-8")
    cleaner = Cleaner()
    read: list[Article] = []
    for _, item in read_archive(archive):
        assert not isinstance(item, BadLine)
        read.append(cleaner.clean(item).model_copy(update={"id": item.id}))
    predicted = stream(read).predicted
    assert predicted == stream(live_articles(rows)).predicted
    assert score(predicted, [r["story"] for r in rows]).f1 > 0.95
