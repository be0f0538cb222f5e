from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from pipeline.models import AlertEvent, EnrichedArticle, Story
from pipeline.storage.sqlite.store import SqliteStore


def article(i: int, text: str, topics: list[str], story: str) -> EnrichedArticle:
    return EnrichedArticle(id=f"a{i}", url=f"https://x.example/{i}", title=f"Title {i}",
                           text=text, source=f"src{i}", published=datetime(2024, 1, i, tzinfo=UTC),
                           topics=topics, story_id=story)


def test_index_search_and_state_commit_together(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    state = store.mapping("cluster")
    store.begin()
    store.put_article(article(1, "Frozen assets will be unlocked for Ukraine.",
                              ["frozen-assets"], "s1"))
    store.put_article(article(2, "Talks on a security agreement continue.", [], "s2"))
    state["x"] = {"n": 1}
    store.commit()
    store.begin()
    state["y"] = 2
    store.rollback()
    assert "y" not in state and store.mapping("cluster")["x"] == {"n": 1}

    assert [h.id for h in store.search('"frozen assets"')] == ["a1"]
    assert [h.id for h in store.search("agreements")] == ["a2"]
    assert [h.id for h in store.search("topic:frozen-assets")] == ["a1"]
    assert {h.id for h in store.search("NOT ukraine")} == {"a2"}
    hit = store.search("unlocked")[0]
    assert "[[unlocked]]" in hit.snippet

    store.begin()  # re-indexing the same article is a no-op
    store.put_article(article(1, "changed text", [], "s9"))
    store.commit()
    assert [a.story_id for a in store.export()] == ["s1", "s2"]


def test_alerts_recorded_once_and_merges_followed(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    now = datetime.now(UTC)
    event = AlertEvent(rule="r", story_id="s1", article_id="a1", headline="h", query="q")
    store.begin()
    store.put_article(article(1, "text one", [], "s1"))
    store.put_story(Story(id="s1", headline="h", headline_article="a1", article_ids=["a1"],
                          first_seen=now, last_seen=now))
    assert store.put_alert(event) is True
    assert store.put_alert(event) is False
    store.merge_stories(["s1"], "s2")
    store.commit()
    assert [a.story_id for a in store.export()] == ["s2"]
    assert store.search("story:s2")[0].id == "a1"
    assert len(store.alert_log()) == 1 and store.pending_alerts()[0].rule == "r"
