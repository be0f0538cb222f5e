"""What the page, the API and ``newswire story`` show, read from any search store.

    Reader(store, settings)
      .search(q, topic=, source=, lang=, since=, page=, limit=)  → SearchPage
      .timeline(story_id)                                         → Timeline | None
      .alerts()                                                   → AlertsView
      .feeds()                                                    → list[FeedHealth]
      .ready()                                                    → bool

Filters are composed into the query language (pipeline.query.filters), so the SQLite and
the Elasticsearch store answer them alike. One lock serialises store calls: the web server
answers from a thread pool, and one SQLite connection must not be used by two at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from pipeline.config.settings import Settings
from pipeline.models import AlertEvent, StoryEvidence
from pipeline.query.filters import compose, quoted
from pipeline.storage.base import SearchHit, SearchStore

MAX_WINDOW = 10_000  # deepest hit a page may reach (Elasticsearch's default window)
STORY_ARTICLES = 1_000


class Facets(BaseModel):
    total: int = 0
    capped: bool = False  # counted over the best hits only (SQLite: the first 2,000)
    topics: list[tuple[str, int]] = Field(default_factory=list)
    sources: list[tuple[str, int]] = Field(default_factory=list)
    langs: list[tuple[str, int]] = Field(default_factory=list)
    dates: list[tuple[str, int]] = Field(default_factory=list)


class StoryGroup(BaseModel):
    """The hits of one page that belong to one story, best first."""

    story_id: str
    headline: str
    article_count: int
    sources: list[str]
    hits: list[SearchHit]


class SearchPage(BaseModel):
    query: str
    composed: str
    page: int
    limit: int
    total: int
    has_next: bool
    hits: list[SearchHit]
    groups: list[StoryGroup]
    facets: Facets


class TimelineEntry(BaseModel):
    id: str
    title: str
    url: str | None
    source: str
    published: datetime | None
    topics: list[str]
    near_copy_of: str | None = None
    snippet: str
    story_evidence: StoryEvidence | None = None


class Timeline(BaseModel):
    id: str
    headline: str
    first_seen: datetime
    last_seen: datetime
    sources: list[str]
    topics: list[str]
    article_count: int
    articles: list[TimelineEntry]


class RuleView(BaseModel):
    name: str
    query: str
    description: str | None
    channels: list[str]
    mode: str
    min_sources: int


class AlertsView(BaseModel):
    rules: list[RuleView]
    fired: list[AlertEvent]


class FeedHealth(BaseModel):
    url: str
    title: str | None
    state: str
    last_success: str | None = None
    failures: int = 0
    last_error: str | None = None
    items_per_day: float | None = None
    items_total: int = 0


class Reader:
    def __init__(self, store: SearchStore, settings: Settings,
                 feed_states: Callable[[], dict[str, dict[str, Any]]] | None = None) -> None:
        self.store = store
        self.settings = settings
        self.feed_states = feed_states or getattr(store, "feed_states", None)
        self.lock = threading.Lock()

    def search(self, q: str | None, *, topic: str | None = None, source: str | None = None,
               lang: str | None = None, since: str | None = None, page: int = 1,
               limit: int = 20, facets: bool = True) -> SearchPage:
        """One page of hits, grouped by story, with facets (``facets=False``: only the
        count of matches, ``facets.capped`` when it is a lower bound). Raises
        QuerySyntaxError."""
        composed = compose(q, topic=topic, source=source, lang=lang, since=since)
        limit = max(1, min(limit, MAX_WINDOW))
        page = max(1, min(page, MAX_WINDOW // limit))
        offset = (page - 1) * limit
        with self.lock:
            found = self.store.search(composed, limit=offset + limit + 1)
            if facets:
                counts = Facets.model_validate(self.store.facets(composed))
            else:
                total, exact = self.store.count_matches(composed)
                counts = Facets(total=total, capped=not exact)
            hits = found[offset:offset + limit]
            groups = self._groups(hits)
        return SearchPage(query=q or "", composed=composed, page=page, limit=limit,
                          total=max(counts.total, min(len(found), offset + limit)),
                          has_next=len(found) > offset + limit, hits=hits, groups=groups,
                          facets=counts)

    def _groups(self, hits: list[SearchHit]) -> list[StoryGroup]:
        by_story: dict[str, list[SearchHit]] = {}
        for hit in hits:
            by_story.setdefault(hit.story_id, []).append(hit)
        groups = []
        for story_id, members in by_story.items():
            story = self.store.story(story_id)
            groups.append(StoryGroup(
                story_id=story_id, headline=story.headline if story else members[0].title,
                article_count=story.article_count if story else len(members),
                sources=story.sources if story else sorted({h.source for h in members}),
                hits=members))
        return groups

    def timeline(self, story_id: str) -> Timeline | None:
        """The story's articles by time (undated last), near-copies marked."""
        with self.lock:
            story = self.store.story(story_id)
            if story is None:
                return None
            hits = self.store.search(f"story:{quoted(story.id)}", limit=STORY_ARTICLES)
        hits.sort(key=lambda h: (h.published is None, h.published or story.first_seen, h.id))
        entries = [TimelineEntry(id=h.id, title=h.title, url=h.url, source=h.source,
                                 published=h.published, topics=h.topics,
                                 near_copy_of=story.near_copies.get(h.id), snippet=h.snippet,
                                 story_evidence=h.story_evidence)
                   for h in hits]
        return Timeline(id=story.id, headline=story.headline, first_seen=story.first_seen,
                        last_seen=story.last_seen, sources=story.sources, topics=story.topics,
                        article_count=story.article_count, articles=entries)

    def alerts(self) -> AlertsView:
        rules = [RuleView(name=r.name, query=r.query, description=r.description,
                          channels=r.channels, mode=r.mode, min_sources=r.min_sources)
                 for r in self.settings.rules]
        with self.lock:
            fired = self.store.alert_log()
        fired.reverse()  # newest first
        return AlertsView(rules=rules, fired=fired)

    def feeds(self) -> list[FeedHealth] | None:
        """Health of each configured feed; None where no feed state is at hand."""
        from pipeline.sources.health import health_row

        if self.feed_states is None:
            return None
        with self.lock:
            known = self.feed_states()
        return [FeedHealth.model_validate(health_row(f.url, f.name, known.get(f.url, {})))
                for f in self.settings.feeds]

    def ready(self) -> bool:
        """The store answers (SQLite: a query; Elasticsearch: cluster health, as the
        integration-test distribution answers no ``GET /`` ping)."""
        with self.lock:
            try:
                client = getattr(self.store, "client", None)
                if client is not None:
                    client.cluster.health(timeout="2s")
                    return True
                conn = getattr(self.store, "conn", None)
                if conn is not None:
                    conn.execute("SELECT 1").fetchone()
                return True
            except Exception:  # noqa: BLE001 - any failure means not ready
                return False
