"""The Elasticsearch store and sink against a real node: the seeds, stemming, phrases,
every query form giving exactly the in-process matcher's answer, idempotent writes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch

from pipeline.models import RawArticle, Story
from pipeline.processing.stages import Enriched, Stages
from pipeline.processing.tag import document_of
from pipeline.query.matcher import matches
from pipeline.storage.elasticsearch.sink import ElasticsearchSink
from pipeline.storage.elasticsearch.store import (
    ElasticsearchStore,
    IndexNames,
    drop,
    install,
)
from tests.integration.conftest import make_settings

pytestmark = pytest.mark.integration

URL = "https://{key}.outlet.example/world/us-ukraine-pact-{key}"
EXTRA = [
    ("x1", "Sanctions tightened on oil exports", "The EU sanctioned three tankers. Oil prices "
     "rose after the embargo.", "Reuters", datetime(2024, 5, 2, tzinfo=UTC)),
    ("x2", "NATO summit opens", "Leaders of the alliance discuss membership for Ukraine and "
     "Article 5 guarantees.", "Le Monde", datetime(2024, 7, 9, tzinfo=UTC)),
    ("x3", "Quake hits coast", "A magnitude 6 earthquake struck; no security pact was "
     "discussed.", "Süddeutsche", None),
]
QUERIES = [
    '"frozen assets"', "agreements", "pacts", "NATO AND membership", "topic:frozen-assets",
    "sanction*", "sanctions*", 'title:"nato summit"', '"security agreement"~2',
    "ukraine -nato", "NOT ukraine", "source:reuters", "source:suddeutsche", "source:reu*",
    "published:[2024-06-01 TO 2024-06-30]", "published:[2024-07-01 TO *]",
    "(earthquake OR quake) AND magnitude", "+ukraine +russia", "author:hannah",
    'topic:nato AND "security pact"~3', "the", "lang:en",
]


def raw_articles(seeds: dict[str, str]) -> list[RawArticle]:
    raws = [RawArticle(url=URL.format(key=k), text=t, source=f"outlet-{k}",
                       published=None if k == "004" else datetime(2024, 6, 13, 9, tzinfo=UTC))
            for k, t in seeds.items()]
    raws += [RawArticle(url=f"https://{k}.example/a", title=title, text=text, source=src,
                        published=pub) for k, title, text, src, pub in EXTRA]
    return raws


def enrich_all(settings: Any, raws: list[RawArticle]) -> list[Enriched]:
    stages = Stages(list(settings.topics), list(settings.rules), {}, {})
    return [stages.enrich(stages.clean(r)) for r in raws]


@pytest.fixture(scope="module")
def es_names(es_url: str) -> Iterator[IndexNames]:
    """One index prefix for this module: the data is loaded once (the merge test runs last)."""
    names = IndexNames(f"nwtest-{uuid.uuid4().hex[:10]}")
    yield names
    drop(Elasticsearch(es_url), names)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: Any, seeds: dict[str, str], es_url: str,
           es_names: IndexNames) -> tuple[ElasticsearchStore, list[Enriched]]:
    settings = make_settings(tmp_path_factory.mktemp("es"), es_names.prefix)
    out = enrich_all(settings, raw_articles(seeds))
    install(Elasticsearch(es_url), es_names)

    async def write() -> None:
        sink = ElasticsearchSink(AsyncElasticsearch(es_url), es_names)
        for revision, e in enumerate(out):
            assert await sink.write([e.article], [(e.story, revision)]) == []
        await sink.close()

    asyncio.run(write())
    store = ElasticsearchStore(Elasticsearch(es_url), es_names)
    store.refresh()
    return store, out


def ids_by_key(out: list[Enriched]) -> dict[str, str]:
    return {e.article.url.split("//")[1].split(".")[0]: e.article.id for e in out}


def test_seed_searches_as_expected(loaded: tuple[ElasticsearchStore, list[Enriched]]) -> None:
    store, out = loaded
    key_of = {v: k for k, v in ids_by_key(out).items()}

    def found(query: str) -> set[str]:
        return {key_of[h.id] for h in store.search(query, limit=100)}

    assert found('"frozen assets"') >= {"001", "002", "003"}
    assert "000" not in found('"frozen assets"')
    assert {"000", "001", "002", "003", "004"} <= found("agreements")
    assert {"000", "001", "002"} <= found("pacts")
    assert found("NATO AND membership") & set(ids_by_key(out)) >= {"001", "002", "004"}
    assert found("topic:frozen-assets") == {"000", "001", "002", "003"}
    hit = store.search('"frozen assets"', limit=1)[0]
    assert "[[" in hit.snippet and hit.story_id and hit.topics


@pytest.mark.parametrize("query", QUERIES)
def test_every_query_form_matches_the_matcher(
        query: str, loaded: tuple[ElasticsearchStore, list[Enriched]]) -> None:
    store, out = loaded
    expected = {e.article.id for e in out
                if matches(query, document_of(e.article, e.article.topics, e.story.id)).matched}
    assert {h.id for h in store.search(query, limit=100)} == expected


def test_stories_export_and_idempotent_reindex(
        loaded: tuple[ElasticsearchStore, list[Enriched]], es_url: str,
        es_names: IndexNames) -> None:
    store, out = loaded
    stories = store.stories()
    assert sum(s.article_count for s in stories) == len(out)
    assert {s.id for s in stories} == {e.story.id for e in out}
    assert {a.id for a in store.export()} == {e.article.id for e in out}
    before = {a.id: a for a in store.export()}

    async def replay() -> None:
        sink = ElasticsearchSink(AsyncElasticsearch(es_url), es_names)
        stale = out[-1].story.model_copy(update={"headline": "an older snapshot"})
        # every article again, and an older story snapshot (stored: revision len-1)
        await sink.write([e.article for e in out], [(stale, 0)])
        await sink.close()

    asyncio.run(replay())
    store.refresh()
    assert store.count("articles") == len(out)
    assert {a.id: a for a in store.export()} == before
    assert store.stories() == stories


def test_story_merge_repoints_articles(es_url: str, es_names: IndexNames,
                                      loaded: tuple[ElasticsearchStore, list[Enriched]]) -> None:
    """A merge repoints the merged story's articles; a late or replayed event of the merged
    story (another partition, a restart) neither brings its story back nor its old id."""
    store, out = loaded
    extra = next(e for e in out if e.article.source == "Reuters")
    survivor = max((s for s in store.stories() if s.id != extra.story.id),
                   key=lambda s: s.article_count)
    grown = survivor.model_copy(update={
        "article_ids": [*survivor.article_ids, extra.article.id],
        "merged_from": [extra.story.id]})

    async def merge() -> None:
        sink = ElasticsearchSink(AsyncElasticsearch(es_url), es_names)
        await sink.write([], [(grown, 100)], {extra.story.id: (grown.id, 100)})
        await sink.close()

    asyncio.run(merge())
    store.refresh()
    assert extra.story.id not in {s.id for s in store.stories()}
    assert store.story(extra.story.id) == store.story(grown.id)  # followed to the survivor
    assert isinstance(store.story(grown.id), Story)
    assert {h.id for h in store.search(f"story:{grown.id}", limit=100)} >= {extra.article.id}

    async def late() -> None:  # the merged story's own event, older, arriving after the merge
        sink = ElasticsearchSink(AsyncElasticsearch(es_url), es_names)
        await sink.write([extra.article], [(extra.story, 5)])
        await sink.close()

    asyncio.run(late())
    store.refresh()
    assert extra.story.id not in {s.id for s in store.stories()}
    article = next(a for a in store.export() if a.id == extra.article.id)
    assert article.story_id == grown.id
    assert {h.id for h in store.search(f"story:{extra.story.id}", limit=100)} == set()
    stories = store.story_ids()  # every article's story now, merges followed
    assert stories[extra.article.id] == grown.id and extra.story.id not in stories.values()
    assert set(stories) == {a.id for a in store.export()}
