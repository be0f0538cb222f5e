"""Search latency at 100 k articles: p50/p95 of a page of hits, on both backends.

Articles are synthetic (places, people and outlets of tests/fixtures/corpus.py with a
varied vocabulary, topics, languages and dates), inserted directly: SQLite through
``SqliteStore.put_article`` in one transaction, Elasticsearch by bulk index under its own
prefix (dropped afterwards). The queries mix terms, phrases, booleans, prefixes and the
CLI/page filters. The Elasticsearch rows are left out when its server is not up
(``scripts/services start``).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipeline.models import EnrichedArticle
from pipeline.query.filters import compose
from tests.fixtures.corpus import OUTLETS, PEOPLE, PLACES

N = 100_000
WORDS = ["pact", "treaty", "summit", "ukraine", "russia", "assets", "frozen", "sanctions",
         "earthquake", "flood", "vote", "court", "strike", "port", "tariff", "grain", "drone",
         "missile", "border", "refugee", "harbour", "election", "budget", "minister", "council",
         "storm", "wildfire", "rescue", "bridge", "railway", "hospital", "school", "market",
         "inflation", "bank", "export", "fishing", "festival", "museum", "police", "protest",
         "union", "energy", "pipeline", "wind", "solar", "drought", "harvest", "ferry",
         "airport", "talks", "agreement", "deal", "ceasefire", "aid", "parliament", "mayor",
         "governor", "coalition", "inquiry", "report"]
TOPICS = ["security-pacts", "frozen-assets", "nato", "quakes", "elections", "economy"]
LANGS = ["en"] * 8 + ["de", "fr"]
QUERIES = [
    ("pact", {}), ("agreement", {}), ('"frozen assets"', {}), ("NATO AND membership", {}),
    ("earthquake OR flood", {}), ("sanction*", {}), ("topic:elections", {}),
    ('"security pact"~3', {}), ("harbour AND NOT storm", {}), ("title:summit", {}),
    ("ferry", {"topic": "economy"}), ("talks", {"lang": "de"}),
    ("budget", {"since": "2024-06-01"}), ("minister", {"source": OUTLETS[0]}),
]
START = datetime(2024, 1, 1, tzinfo=UTC)


def articles(n: int = N, seed: int = 11) -> Iterator[EnrichedArticle]:
    rng = random.Random(seed)
    for i in range(n):
        place, person = rng.choice(PLACES), rng.choice(PEOPLE)
        words = rng.sample(WORDS, 8)
        sentences = [f"{person} said in {place} that the {words[k]} and the {words[k + 1]} "
                     f"would shape the {rng.choice(WORDS)} {rng.choice(WORDS)}."
                     for k in range(0, 8, 2)]
        if rng.random() < 0.05:
            sentences.append("Talks on frozen assets and NATO membership continued.")
        yield EnrichedArticle(
            id=f"b{i:06d}", url=f"https://bench.example/{i}",
            title=f"{place}: {words[0]} {words[1]} {rng.choice(WORDS)}",
            text=" ".join(sentences), source=rng.choice(OUTLETS), lang=rng.choice(LANGS),
            published=START + timedelta(minutes=7 * i), topics=rng.sample(TOPICS, 2),
            story_id=f"s-{i // 5:06d}")


def _timings(search: Callable[[str], object], repeat: int = 5) -> dict[str, float]:
    times = []
    for _ in range(repeat):
        for q, filters in QUERIES:
            started = time.perf_counter()
            search(compose(q, **filters))
            times.append(time.perf_counter() - started)
    total = sum(times)
    cuts = statistics.quantiles(times, n=100)
    return {"done": float(len(times)), "seconds": total, "rate": len(times) / total,
            "p50_s": statistics.median(times), "p95_s": cuts[94], "articles": float(N)}


def sqlite_rows() -> list[tuple[str, dict[str, float]]]:
    from pipeline.storage.sqlite.store import SqliteStore

    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "bench.db")
        started = time.perf_counter()
        store.begin()
        for article in articles():
            store.put_article(article)
        store.commit()
        load = time.perf_counter() - started
        hits = _timings(lambda q: store.search(q, limit=20))
        facets = _timings(lambda q: store.facets(q), repeat=1)
        store.close()
    hits["load_s"] = load
    return [("search p95, 100k articles, embedded", hits),
            ("search facets, 100k articles, embedded", facets)]


def elasticsearch_rows(url: str = "http://127.0.0.1:9200") -> list[tuple[str, dict[str, float]]]:
    from elasticsearch import Elasticsearch, helpers

    from pipeline.storage.elasticsearch.store import (
        ElasticsearchStore,
        IndexNames,
        article_doc,
        drop,
        install,
    )

    client = Elasticsearch(url, request_timeout=120)
    try:
        client.cluster.health(timeout="2s")
    except Exception:  # noqa: BLE001 - no server: no row
        return []
    names = IndexNames(f"bench-search-{int(time.time())}")
    install(client, names)
    store = ElasticsearchStore(client, names)
    try:
        started = time.perf_counter()
        helpers.bulk(client, ({"_index": names.articles, "_id": a.id, "_source": article_doc(a)}
                              for a in articles()), chunk_size=2000)
        store.refresh()
        load = time.perf_counter() - started
        hits = _timings(lambda q: store.search(q, limit=20))
        facets = _timings(lambda q: store.facets(q), repeat=1)
    finally:
        drop(client, names)
        client.close()
    hits["load_s"] = load
    return [("search p95, 100k articles, elasticsearch", hits),
            ("search facets, 100k articles, elasticsearch", facets)]


def rows() -> list[tuple[str, dict[str, float]]]:
    return sqlite_rows() + elasticsearch_rows()


if __name__ == "__main__":
    for name, row in rows():
        print(name, {k: round(v, 4) for k, v in row.items()})
