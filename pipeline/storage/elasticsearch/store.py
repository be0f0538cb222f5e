"""The Elasticsearch search store: same answers as the SQLite store, on an ES cluster.

    <prefix>-articles  ──alias──▶ <prefix>-articles-v1   doc id = article id
    <prefix>-stories   ──alias──▶ <prefix>-stories-v1    doc id = story id (whole snapshots)
    <prefix>-alerts    ──alias──▶ <prefix>-alerts-v1     doc id = rule:story:channel

Index templates live in ``config/elasticsearch/*.json`` (written for the prefix
``newswire``; another prefix is substituted when they are installed). Articles carry,
beside the original text, Python-analysed copies (``*_terms``: stems, ``*_words``: folded
surface words) that queries run on, so stemming does not depend on the server's analysis
plugins (the integration-test distribution has no ``english`` analyzer).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from elasticsearch import ApiError, Elasticsearch, NotFoundError, helpers

from pipeline.models import AlertEvent, EnrichedArticle, Story
from pipeline.processing.tag import document_of
from pipeline.query.analysis import analyzed_string, fold, words_string
from pipeline.query.matcher import matches
from pipeline.query.parser import compile_query
from pipeline.storage.base import IdKind, SearchHit
from pipeline.storage.elasticsearch.query import to_elastic
from pipeline.storage.snippet import snippet

logger = logging.getLogger(__name__)

INDEX_VERSION = 1
KINDS = ("articles", "stories", "alerts")
# the shipped defaults (pipeline/defaults, the repo's config/): found from an installed package too
TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "defaults" / "elasticsearch"
_ANALYSED = ("title", "text", "author")
DERIVED = [f"{f}_{kind}" for f in _ANALYSED for kind in ("terms", "words")] + ["keys"]


@dataclass(frozen=True)
class IndexNames:
    """Aliases and versioned indices for one prefix (tests use their own)."""

    prefix: str = "newswire"

    def alias(self, kind: str) -> str:
        return f"{self.prefix}-{kind}"

    def index(self, kind: str) -> str:
        return f"{self.prefix}-{kind}-v{INDEX_VERSION}"

    @property
    def articles(self) -> str:
        return self.alias("articles")

    @property
    def stories(self) -> str:
        return self.alias("stories")

    @property
    def alerts(self) -> str:
        return self.alias("alerts")


# -- documents ---------------------------------------------------------------------------

def article_doc(article: EnrichedArticle) -> dict[str, Any]:
    doc = article.model_dump(mode="json")
    for name in _ANALYSED:
        value = getattr(article, name) or ""
        doc[f"{name}_terms"] = analyzed_string(value)
        doc[f"{name}_words"] = words_string(value)
    doc["keys"] = {
        "source": fold(article.source),
        "lang": fold(article.lang) if article.lang else None,
        "topic": [fold(t) for t in article.topics],
        "story": fold(article.story_id),
    }
    return doc


def article_from_doc(source: dict[str, Any]) -> EnrichedArticle:
    return EnrichedArticle.model_validate({k: v for k, v in source.items() if k not in DERIVED})


MERGED_INTO = "merged_into"  # a merged story's document is a tombstone naming its new story


def story_doc(story: Story) -> dict[str, Any]:
    return {**story.model_dump(mode="json"), "article_count": story.article_count}


def story_from_doc(source: dict[str, Any]) -> Story:
    return Story.model_validate({k: v for k, v in source.items() if k != "article_count"})


def alert_id(event: AlertEvent) -> str:
    """One document per (rule, story, event, channel): an update alert is not the new one."""
    return f"{event.rule}:{event.story_id}:{event.event}:{event.channel}"


# -- templates ---------------------------------------------------------------------------

def load_template(kind: str, prefix: str, directory: Path = TEMPLATE_DIR) -> dict[str, Any]:
    """One template file, its names rewritten from ``newswire-`` to ``<prefix>-``."""
    text = (directory / f"{kind}.json").read_text(encoding="utf-8")
    body: dict[str, Any] = json.loads(text.replace('"newswire-', f'"{prefix}-'))
    return body


def _has_analyzer(client: Elasticsearch, name: str) -> bool:
    try:
        client.indices.analyze(analyzer=name, text="probe")
        return True
    except ApiError:
        return False


def _adapt(body: dict[str, Any], whitespace: bool, english: bool) -> None:
    """Use what this distribution has: ``standard`` if no ``whitespace``, ``english`` if any."""
    for name, spec in body["template"]["mappings"]["properties"].items():
        if spec.get("analyzer") == "whitespace" and not whitespace:
            spec["analyzer"] = "standard"
        elif spec.get("analyzer") == "standard" and english and name in ("title", "text"):
            spec["analyzer"] = "english"


def install(client: Elasticsearch, names: IndexNames, directory: Path = TEMPLATE_DIR) -> None:
    """Put the index templates and create the versioned indices behind their aliases."""
    whitespace = _has_analyzer(client, "whitespace")
    english = _has_analyzer(client, "english")
    for kind in KINDS:
        body = load_template(kind, names.prefix, directory)
        _adapt(body, whitespace, english)
        client.indices.put_index_template(name=names.alias(kind), **body)
        if not client.indices.exists_alias(name=names.alias(kind)):
            try:
                client.indices.create(index=names.index(kind),
                                      aliases={names.alias(kind): {"is_write_index": True}})
            except ApiError as exc:
                if exc.status_code != 400 or "already_exists" not in str(exc):
                    raise
    logger.info("elasticsearch installed prefix=%s whitespace=%s english=%s",
                names.prefix, whitespace, english)


def drop(client: Elasticsearch, names: IndexNames) -> None:
    """Delete this prefix's indices and templates (tests clean up with this)."""
    for kind in KINDS:
        client.options(ignore_status=404).indices.delete(index=names.index(kind))
        client.options(ignore_status=404).indices.delete_index_template(name=names.alias(kind))


# -- the store ---------------------------------------------------------------------------

class ElasticsearchStore:
    """SearchStore on Elasticsearch; the same output fields as the SQLite store."""

    def __init__(self, client: Elasticsearch, names: IndexNames | None = None) -> None:
        self.client = client
        self.names = names or IndexNames()

    @classmethod
    def connect(cls, url: str, prefix: str = "newswire") -> ElasticsearchStore:
        return cls(Elasticsearch(url, request_timeout=30), IndexNames(prefix))

    def close(self) -> None:
        self.client.close()

    def refresh(self) -> None:
        self.client.indices.refresh(index=",".join(self.names.alias(k) for k in KINDS),
                                    ignore_unavailable=True)

    def search(self, query: str, limit: int = 20) -> list[SearchHit]:
        node = compile_query(query)
        response = self.client.search(
            index=self.names.articles, query=to_elastic(node), size=limit,
            source_excludes=DERIVED, sort=["_score", {"id": "asc"}], track_scores=True,
            ignore_unavailable=True,
        )
        hits = []
        for hit in response["hits"]["hits"]:
            article = article_from_doc(hit["_source"])
            evidence = matches(node, document_of(article, article.topics, article.story_id))
            hits.append(SearchHit(
                id=article.id, title=article.title, url=article.link, source=article.source,
                published=article.published, story_id=article.story_id, topics=article.topics,
                score=round(float(hit["_score"] or 0.0), 4),
                snippet=snippet(article.text, evidence.evidence),
                evidence=SearchHit.evidence_of(article), story_evidence=article.story_evidence,
            ))
        return hits

    def stories(self) -> list[Story]:
        found = [story_from_doc(h["_source"]) for h in self._scan(self.names.stories)
                 if MERGED_INTO not in h["_source"]]  # tombstones of merged stories
        found.sort(key=lambda s: s.id)
        found.sort(key=lambda s: s.last_seen, reverse=True)
        return found

    def story(self, story_id: str) -> Story | None:
        """The story, or the one it was merged into."""
        for _hop in range(16):
            try:
                source = self.client.get(index=self.names.stories, id=story_id)["_source"]
            except NotFoundError:
                return None
            if MERGED_INTO not in source:
                return story_from_doc(source)
            story_id = source[MERGED_INTO]
        return None

    def story_ids(self) -> dict[str, str]:
        """Every article's story now: the one it was indexed with, or the story that one
        was merged into (an article indexed before its story's merge keeps the old id)."""
        merged = {h["_id"]: h["_source"][MERGED_INTO] for h in self._scan(self.names.stories)
                  if MERGED_INTO in h["_source"]}

        def survivor(story: str) -> str:
            for _hop in range(16):
                if story not in merged:
                    break
                story = merged[story]
            return story

        return {h["_id"]: survivor(h["_source"]["story_id"])
                for h in self._scan(self.names.articles)}

    def article(self, article_id: str) -> EnrichedArticle | None:
        try:
            source = self.client.get(index=self.names.articles, id=article_id)["_source"]
        except NotFoundError:  # no such article, or no index yet
            return None
        return article_from_doc(source)

    def export(self) -> Iterator[EnrichedArticle]:
        articles = [article_from_doc(h["_source"]) for h in self._scan(self.names.articles)]
        articles.sort(key=lambda a: (a.published.isoformat() if a.published else "", a.id))
        yield from articles

    def alert_log(self) -> list[AlertEvent]:
        events = [AlertEvent.model_validate(h["_source"]) for h in self._scan(self.names.alerts)]
        events.sort(key=lambda e: (e.fired, e.rule))
        return events

    def count(self, kind: str = "articles") -> int:
        return int(self.client.count(index=self.names.alias(kind),
                                     ignore_unavailable=True)["count"])

    def count_matches(self, query: str) -> tuple[int, bool]:
        """Every match of ``query`` (the count API: no hits, no aggregations); exact."""
        response = self.client.count(index=self.names.articles,
                                     query=to_elastic(compile_query(query)),
                                     ignore_unavailable=True)
        return int(response["count"]), True

    def ids_with_prefix(self, kind: IdKind, prefix: str, limit: int = 10) -> list[str]:
        """Ids starting with ``prefix`` (a prefix query on the keyword ``id``); stories
        merged into another only when no live story has the prefix."""
        index = self.names.alias(kind)
        query: dict[str, Any] = {"prefix": {"id": prefix}}
        if kind == "stories":
            live = {"bool": {"filter": [query], "must_not": [{"exists": {"field": MERGED_INTO}}]}}
            return self._ids(index, live, limit) or self._ids(index, query, limit)
        return self._ids(index, query, limit)

    def _ids(self, index: str, query: dict[str, Any], limit: int) -> list[str]:
        response = self.client.search(index=index, query=query, size=limit, sort=[{"id": "asc"}],
                                      source_includes=["id"], ignore_unavailable=True)
        return [str(h["_source"]["id"]) for h in response["hits"]["hits"]]

    def facets(self, query: str, size: int = 10) -> dict[str, object]:
        """Counts over the hits of ``query``: total, topics, sources, langs (terms
        aggregations, ``size`` each) and dates (a daily histogram, oldest first)."""
        response = self.client.search(
            index=self.names.articles, query=to_elastic(compile_query(query)), size=0,
            track_total_hits=True, ignore_unavailable=True, aggs={
                "topics": {"terms": {"field": "topics", "size": size}},
                "sources": {"terms": {"field": "source", "size": size}},
                "langs": {"terms": {"field": "lang", "size": size}},
                "dates": {"date_histogram": {"field": "published", "calendar_interval": "day",
                                             "min_doc_count": 1, "format": "yyyy-MM-dd"}},
            })
        aggs = response.get("aggregations") or {}
        out: dict[str, object] = {"total": int(response["hits"]["total"]["value"])}
        for kind in ("topics", "sources", "langs"):
            out[kind] = [(b["key"], int(b["doc_count"]))
                         for b in aggs.get(kind, {}).get("buckets", [])]
        out["dates"] = [(b["key_as_string"], int(b["doc_count"]))
                        for b in aggs.get("dates", {}).get("buckets", [])]
        return out

    def _scan(self, index: str) -> Iterator[dict[str, Any]]:
        yield from helpers.scan(self.client, index=index, query={"query": {"match_all": {}}},
                                source_excludes=DERIVED, size=1000, ignore_unavailable=True)

