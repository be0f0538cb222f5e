"""The SQLite store's dead letters: keyed, replaced when they fail again, listed newest
first by stage and time, forgotten, purged, counted; older files migrate."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline import metrics
from pipeline.models import DeadLetter
from pipeline.storage.sqlite.store import SqliteStore

T0 = datetime(2024, 6, 13, 9, tzinfo=UTC)


def letter(stage: str, error: str, payload: str, hours: int = 0, **extra: str) -> DeadLetter:
    return DeadLetter(stage=stage, error=error, payload=payload, at=T0 + timedelta(hours=hours),
                      **extra)


def filled(path: Path) -> SqliteStore:
    store = SqliteStore(path)
    store.put_dead(letter("clean", "NotAnArticle: not an article (paywall): https://p.example/1",
                          '{"url": "https://p.example/1", "feed_url": "https://p.example/rss",'
                          ' "title": "Subscribe now"}'), "a1")
    store.put_dead(letter("ingest", "line 3: missing required field 'url'", '{"title": "x"}',
                          hours=1, source="archive.jsonl:3"))
    store.put_dead(letter("alert", "HTTP 500", '{"rule": "r", "story_id": "s1"}', hours=2),
                   "alert:r:s1:new:webhook:https://h.example")
    return store


def test_rows_are_newest_first_with_source_preview_and_filters(tmp_path: Path) -> None:
    store = filled(tmp_path / "n.db")
    rows = store.dead_rows()
    assert [r.stage for r in rows] == ["alert", "ingest", "clean"]
    clean = rows[2]
    assert (clean.key, clean.source, clean.preview) == (
        "a1", "https://p.example/rss, https://p.example/1", "Subscribe now")
    assert rows[1].source == "archive.jsonl:3" and rows[1].key.startswith("ingest:")
    assert [r.key for r in store.dead_rows(stage="clean")] == ["a1"]
    assert [r.stage for r in store.dead_rows(since=T0 + timedelta(minutes=30))] == [
        "alert", "ingest"]
    assert len(store.dead_rows(limit=1)) == 1


def test_a_letter_that_fails_again_replaces_itself(tmp_path: Path) -> None:
    store = filled(tmp_path / "n.db")
    store.put_dead(letter("clean", "KeyError: 'lang'", '{"url": "https://p.example/1"}', 5),
                   "a1")
    same = [r for r in store.dead_rows() if r.key == "a1"]
    assert [(r.reason, r.at) for r in same] == [("KeyError: 'lang'", T0 + timedelta(hours=5))]
    again = letter("ingest", "line 3: other", '{"title": "x"}', 6)  # the same bad line
    store.put_dead(again)
    assert len(store.dead_rows(stage="ingest")) == 1


def test_forget_purge_and_counts(tmp_path: Path) -> None:
    store = filled(tmp_path / "n.db")
    assert store.dead_counts() == {("clean", "paywall"): 1, ("ingest", "missing-field"): 1,
                                   ("alert", "other"): 1}
    assert store.forget_dead(["a1", "nope"]) == 1
    assert store.purge_dead(T0 + timedelta(hours=2), stage="alert") == 0
    assert store.purge_dead(T0 + timedelta(hours=2)) == 1  # the ingest letter, at T0+1h
    assert [r.stage for r in store.dead_rows()] == ["alert"]
    assert store.purge_dead(datetime(2030, 1, 1, tzinfo=UTC)) == 1
    assert store.dead_rows() == []


def test_put_dead_counts_by_stage_and_reason_class(tmp_path: Path) -> None:
    before = metrics.DEAD_LETTERS.labels("clean", "paywall")._value.get()
    filled(tmp_path / "n.db")
    assert metrics.DEAD_LETTERS.labels("clean", "paywall")._value.get() == before + 1


def test_a_replayed_article_is_let_through_and_forgotten_once_indexed(tmp_path: Path) -> None:
    from tests.unit.web.conftest import ARTICLES

    store = filled(tmp_path / "n.db")
    article = ARTICLES[0].model_copy(update={"id": "a1"})
    assert store.has_article("a1")  # dead-lettered: skipped by the runtime
    store.replaying = {"a1"}
    assert not store.has_article("a1")
    store.put_article(article)
    assert store.has_article("a1") and "a1" not in store.dead_letters_by_key()


def test_an_older_file_gets_keys_and_sources(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE dead (seq INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, stage TEXT NOT "
        "NULL, error TEXT NOT NULL, payload TEXT NOT NULL, at TEXT NOT NULL);"
        "CREATE UNIQUE INDEX dead_key ON dead(key) WHERE key IS NOT NULL;")
    rows = [("a1", "clean", "boom", '{"url": "https://x.example/1"}'),
            (None, "ingest", "line 1: bad", "{"), (None, "ingest", "line 1: bad", "{")]
    conn.executemany("INSERT INTO dead (key, stage, error, payload, at) VALUES (?,?,?,?,?)",
                     [(*r, T0.isoformat()) for r in rows])
    conn.commit()
    conn.close()
    store = SqliteStore(path)
    listed = store.dead_rows()
    assert sorted(r.stage for r in listed) == ["clean", "ingest"]  # the copy kept once
    assert all(r.key for r in listed)
    assert {r.source for r in listed} == {"https://x.example/1", None}
