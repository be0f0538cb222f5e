"""The search store interface: one real implementation each for SQLite FTS5 and Elasticsearch."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from pipeline.models import AlertEvent, EnrichedArticle, Story, StoryEvidence, TopicMatch


class SearchHit(BaseModel):
    """One search result, as the CLI and the web page show it."""

    id: str
    title: str
    url: str | None  # None: no link of its own, and its feed none either
    source: str
    published: datetime | None
    story_id: str
    topics: list[str] = Field(default_factory=list)
    score: float
    snippet: str  # highlighted with [[ ]] around matches
    evidence: list[TopicMatch] = Field(default_factory=list)  # per topic: query, words, offsets
    story_evidence: StoryEvidence | None = None  # why the article joined or started its story

    @staticmethod
    def evidence_of(article: EnrichedArticle) -> list[TopicMatch]:
        """Per topic tag: its query and the matched words with their character offsets."""
        return list(article.topic_matches)


IdKind = Literal["articles", "stories"]
COUNT_CAP = 2000  # SQLite confirms each hit with the matcher: it counts this many at most


class SearchStore(Protocol):
    """Where enriched articles and stories are indexed and searched."""

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        """Lucene-syntax query (see pipeline.query); best hits first."""
        ...

    def count_matches(self, query: str) -> tuple[int, bool]:
        """How many articles match ``query``, and whether that number is exact (False: at
        least that many; SQLite stops counting at COUNT_CAP, Elasticsearch counts all)."""
        ...

    def ids_with_prefix(self, kind: IdKind, prefix: str, limit: int = 10) -> list[str]:
        """Article or story ids that start with ``prefix``, in order, at most ``limit``."""
        ...

    def stories(self) -> list[Story]:
        """All stories, most recently updated first."""
        ...

    def story(self, story_id: str) -> Story | None:
        """One story (a merged story's id leads to the story it joined)."""
        ...

    def article(self, article_id: str) -> EnrichedArticle | None:
        """One indexed article."""
        ...

    def facets(self, query: str, size: int = 10) -> dict[str, object]:
        """Counts of topics, sources, languages and publication days among the matches."""
        ...

    def export(self) -> Iterator[EnrichedArticle]:
        """Every indexed article."""
        ...

    def alert_log(self) -> list[AlertEvent]:
        """Every alert that fired, oldest first."""
        ...

    def close(self) -> None:
        """Release the connection."""
        ...
