"""One query language, three evaluators: the in-process matcher, SQLite FTS5 and the real
Elasticsearch must return identical article sets (ranking may differ) for every construct.

Corpus: the five seeds and newswire's own fictional corpus (tests/fixtures/corpus.py),
run through the real stages first so topics and stories are the pipeline's own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch

from pipeline.config.settings import load_settings
from pipeline.models import EnrichedArticle, RawArticle
from pipeline.processing.stages import Stages
from pipeline.processing.tag import document_of
from pipeline.query.matcher import matches
from pipeline.storage.elasticsearch.sink import ElasticsearchSink
from pipeline.storage.elasticsearch.store import ElasticsearchStore, IndexNames, install
from pipeline.storage.sqlite.store import SqliteStore
from tests.conftest import REPO, SHARED
from tests.fixtures.corpus import corpus

pytestmark = pytest.mark.integration

QUERIES = [
    # terms, stemming, case, possessives, folding
    "earthquake", "earthquakes", "Quake", "EARTHQUAKE", "agreements", "pacts", "Kremlin's",
    "voters", "voted", "injured", "injuries", "cafe", "tariffs",
    # phrases and proximity
    '"frozen assets"', '"security pact"', '"security agreement"', '"dock workers"',
    '"trade agreement"', '"security pact"~3', '"assets frozen"~2', '"ships waiting"~4',
    '"rescue teams"', '"electoral commission"',
    # booleans, required / prohibited, grouping
    "NATO AND membership", "nato OR tariffs", "quake AND NOT flood", "strike -port",
    "+election turnout", "+quake +valdora", "(quake OR flood) AND marenza",
    "(ukraine OR kyiv) AND (pact OR agreement)", "NOT earthquake", "election AND -coalition",
    "trade OR strike OR flood", "(court AND guilty) OR (quake AND magnitude)",
    "ukraine AND NOT (nato OR russia)",
    # prefix wildcards
    "sanction*", "earthq*", "tarif*", "elect*", "ukrain*",
    # fields
    "title:quake", "title:strike AND text:union", "text:magnitude", "source:\"Valley Gazette\"",
    "source:\"Harbourtown Courier\" AND flood", "lang:en AND quake", "author:nightingale",
    "title:(election OR vote)", "topic:frozen-assets", "topic:nato", "topic:security-pacts",
    "topic:elections AND turnout", "topic:natural-disasters -flood", "topic:trade",
    "NOT topic:natural-disasters AND marenza",
    # dates
    "published:[2026-03-01 TO 2026-03-05]", "published:[2024-06-13 TO 2024-06-14]",
    "quake AND published:[2026-03-10 TO *]", "published:[* TO 2026-03-03]",
    "published:2024-06-13", "published:[now-7d TO now]",
    # Elasticsearch's rounding, with articles inside the boundary days (issue #16 item 2)
    "published:[2026-03-02 TO 2026-03-02]", "published:[2026-03-02 TO 2026-03-03]",
    "published:{2026-03-02 TO 2026-03-04}", "published:[2026-03-02 TO 2026-03-04}",
    "published:{2026-03-02 TO *]", "published:[* TO 2026-03-02}", "published:2026-03-03",
    "published:[2026-03-02T12 TO 2026-03-02T21]", "published:{2026-03-02T12 TO 2026-03-02T22}",
    r"published:[2026-03-02T03\:00 TO 2026-03-02T04\:59]", "published:>2026-03-02",
    "published:<=2026-03-02", "published:>=2026-03-03", "published:<2026-03-03",
    "published:[2026-03-02||/M TO 2026-03-02||/M]", "published:[2026-03-01||+1d TO *]",
    "published:[2026-03-02||-1d/d TO 2026-03-02||+1d/d}",
    "published:[2024-06-01 TO 2024-06-30]", "published:[2024-06-01 TO 2024-06-13]",
]
DATE_QUERIES = [q for q in QUERIES if q.startswith("published:")]


def _build_articles() -> list[EnrichedArticle]:
    settings = load_settings(REPO / "config", env={})
    stages = Stages(list(settings.topics), [], {}, {})
    seeds = sorted((SHARED / "seeds").glob("0*.txt"))
    raws = [RawArticle(url=f"https://{p.name[:3]}.seed.example/a", text=p.read_text(),
                       source=f"Seed outlet {p.name[:3]}", author=None) for p in seeds]
    raws += [RawArticle(**{k: v for k, v in rec.items() if k != "event"}) for rec in corpus()]
    return [stages.enrich(stages.clean(raw)).article for raw in raws]


@pytest.fixture(scope="module")
def articles(seeds: dict[str, str]) -> list[EnrichedArticle]:
    return _build_articles()


@pytest.fixture(scope="module")
def sqlite_store(articles: list[EnrichedArticle], tmp_path_factory: pytest.TempPathFactory
                 ) -> SqliteStore:
    store = SqliteStore(Path(tmp_path_factory.mktemp("parity")) / "db.sqlite")
    store.begin()
    for article in articles:
        store.put_article(article)
    store.commit()
    return store


@pytest.fixture(scope="module")
def es_store(articles: list[EnrichedArticle], es_url: str) -> ElasticsearchStore:
    names = IndexNames("nwtest-parity")
    client = Elasticsearch(es_url)
    from pipeline.storage.elasticsearch.store import drop
    drop(client, names)
    install(client, names)

    async def write() -> None:
        sink = ElasticsearchSink(AsyncElasticsearch(es_url), names)
        try:
            assert await sink.write(articles) == []
        finally:
            await sink.close()

    asyncio.run(write())
    store = ElasticsearchStore(client, names)
    store.refresh()
    return store


@pytest.mark.parametrize("query", DATE_QUERIES)
def test_date_ranges_round_as_elasticsearch_query_string_does(
    query: str, articles: list[EnrichedArticle], es_store: ElasticsearchStore,
) -> None:
    """Not only do the backends agree: they agree with Elasticsearch's own reading of the
    Lucene text (query_string on the ``published`` date field), rounding included."""
    expected = {a.id for a in articles
                if matches(query, document_of(a, a.topics, a.story_id)).matched}
    if "now" not in query:  # "now" is a moment apart on two clocks; fixed dates are exact
        assert expected, f"{query!r} should find corpus articles"
    found = es_store.client.search(index=es_store.names.articles, size=10_000, _source=False,
                                   query={"query_string": {"query": query}})
    assert {h["_id"] for h in found["hits"]["hits"]} == expected


def test_at_least_sixty_queries_cover_every_construct() -> None:
    assert len(QUERIES) >= 60


@pytest.mark.parametrize("query", QUERIES)
def test_same_articles_on_matcher_sqlite_and_elasticsearch(
    query: str, articles: list[EnrichedArticle], sqlite_store: SqliteStore,
    es_store: ElasticsearchStore,
) -> None:
    expected = {a.id for a in articles
                if matches(query, document_of(a, a.topics, a.story_id)).matched}
    on_sqlite = {h.id for h in sqlite_store.search(query, limit=10_000)}
    on_es = {h.id for h in es_store.search(query, limit=10_000)}
    assert on_sqlite == expected, f"SQLite differs from the matcher for {query!r}"
    assert on_es == expected, f"Elasticsearch differs from the matcher for {query!r}"
