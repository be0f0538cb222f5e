"""A small store with known stories, an alert, feed state and an article carrying script
payloads; the app over it (TestClient)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from pipeline.config.settings import Settings, load_settings
from pipeline.models import AlertEvent, EnrichedArticle, Story, StoryEvidence
from pipeline.storage.sqlite.store import SqliteStore
from pipeline.web.app import create_app

T0 = datetime(2024, 6, 13, tzinfo=UTC)
PAYLOAD = ('<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2"> '
           '<a href="javascript:alert(1)">x</a>')
FEED = "https://feeds.example/world.xml"


def article(n: int, story: str, source: str, text: str, topics: list[str],
            lang: str = "en", near: str | None = None, url: str | None = None,
            title: str | None = None) -> EnrichedArticle:
    return EnrichedArticle(id=f"a{n}", url=url or f"https://{source}.example/{n}",
                           title=title or f"Pact story {n}", text=text, source=source,
                           published=T0 + timedelta(hours=n), lang=lang, topics=topics,
                           story_id=story, near_duplicate_of=near)


ARTICLES = [
    article(0, "s-pact", "wire", "The US and Ukraine signed a security agreement.",
            ["security-pacts"]),
    article(1, "s-pact", "paper", "Ukraine and the US agree a security pact with NATO "
            "in mind.", ["security-pacts", "nato"], near="a0").model_copy(update={
                "story_evidence": StoryEvidence(joined=True, story="s-pact", score=0.91,
                                                threshold=0.4, shared={"where": ["e:kyiv"]})}),
    article(2, "s-pact", "daily", "A ten-year security agreement was signed.",
            ["security-pacts"], lang="de"),
    article(3, "s-quake", "wire", "A strong earthquake of magnitude 6 struck.", ["quakes"]),
    article(4, "s-evil", "evil", f"Security agreement news. {PAYLOAD} end.",
            ["security-pacts"], url="javascript:alert(3)", title=f"Evil {PAYLOAD}"),
]


def story_of(sid: str) -> Story:
    members = [a for a in ARTICLES if a.story_id == sid]
    return Story(id=sid, headline=members[0].title, headline_article=members[0].id,
                 article_ids=[a.id for a in members],
                 sources=sorted({a.source for a in members}),
                 topics=sorted({t for a in members for t in a.topics}),
                 first_seen=members[0].published or T0, last_seen=members[-1].published or T0,
                 near_copies={a.id: a.near_duplicate_of for a in members
                              if a.near_duplicate_of})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    config = tmp_path / "config"
    config.mkdir()
    (config / "alerts.yaml").write_text(yaml.safe_dump({"rules": [
        {"name": "pact", "query": "topic:security-pacts", "channels": ["console"]}]}))
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [
        {"url": FEED, "name": "World"}]}))
    (config / "topics.yaml").write_text(yaml.safe_dump({"topics": [
        {"name": "security-pacts", "query": "pact OR agreement"}]}))
    return load_settings(config, data_dir=tmp_path / "data", env={})


@pytest.fixture
def store(settings: Settings) -> Iterator[SqliteStore]:
    found = SqliteStore(settings.db_path)
    for a in ARTICLES:
        found.put_article(a)
    for sid in ("s-pact", "s-quake", "s-evil"):
        found.put_story(story_of(sid))
    found.put_alert(AlertEvent(rule="pact", story_id="s-pact", article_id="a0",
                               headline="Pact story 0", query="topic:security-pacts",
                               channel="console", fired=T0, state="delivered"))
    found.put_feed_state(FEED, {"state": "failing", "failures": 3,
                                "last_error": "HTTP 503 <b>down</b>"})
    yield found
    found.close()


@pytest.fixture
def client(store: SqliteStore, settings: Settings) -> TestClient:
    return TestClient(create_app(store, settings))
