"""Backend parity: the same inputs through the embedded runtime (SQLite) and through real
Kafka + Faust + Elasticsearch give the same stories, topics, search hits and alerts, and
the CLI's read commands give the same output fields on both backends.

Inputs: the five seeds and ~300 articles of tests/fixtures/corpus.py, in one order; the
raw topic has one partition (``kafka_partitions=1``) so the story agent sees that order.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.models import RawArticle
from pipeline.runtime.embedded import EmbeddedRuntime
from pipeline.storage.base import SearchStore
from pipeline.storage.sqlite.store import SqliteStore
from tests.conftest import newswire
from tests.fixtures.corpus import corpus
from tests.integration.conftest import StreamEnv
from tests.integration.test_elasticsearch_store import raw_articles

pytestmark = pytest.mark.integration

QUERIES = [
    "agreements", '"frozen assets"', "nato", "earthquake OR quake", "election AND turnout",
    "topic:trade", '"trade agreement"', "court AND bribery", "strike NOT court",
    "title:flood*", '"port workers"~3', "valdora OR marenza", "topic:security-pacts",
    "source:outlet-001",
]
Result = dict[str, Any]


def inputs(seeds: dict[str, str]) -> list[RawArticle]:
    fictional = [RawArticle.model_validate({k: v for k, v in r.items() if k != "event"})
                 for r in corpus(90)]
    return raw_articles(seeds)[:5] + fictional[:300]


def results(store: SearchStore) -> Result:
    articles = list(store.export())
    stories = store.stories()
    members = {s.id: frozenset(s.article_ids) for s in stories}
    return {
        "ids": {a.id for a in articles},
        "stories": {frozenset(s.article_ids) for s in stories},
        "topics": {a.id: sorted(a.topics) for a in articles},
        "article_story": {a.id: members.get(a.story_id) for a in articles},
        "search": {q: {h.id for h in store.search(q, limit=1000)} for q in QUERIES},
        "alerts": {(e.rule, e.channel, members.get(e.story_id)) for e in store.alert_log()},
    }


@pytest.fixture
def parity_env(stream_env: StreamEnv) -> StreamEnv:
    env = stream_env
    env.settings = env.settings.model_copy(update={"kafka_partitions": 1})
    env.env["NEWSWIRE_KAFKA_PARTITIONS"] = "1"
    return env


def test_embedded_and_kafka_give_the_same_results_and_cli_fields(
        parity_env: StreamEnv, seeds: dict[str, str], tmp_path: Path) -> None:
    env, raws = parity_env, inputs(seeds)
    embedded_dir = tmp_path / "embedded"
    embedded_settings = env.settings.model_copy(update={"data_dir": embedded_dir})

    async def embedded() -> None:
        runtime = EmbeddedRuntime(embedded_settings)
        try:
            await runtime.process(raws)
        finally:
            await runtime.close()

    asyncio.run(embedded())
    sqlite = SqliteStore(embedded_settings.db_path)
    expected = results(sqlite)
    sqlite.close()
    assert len(expected["ids"]) == len(raws) and expected["alerts"]

    env.start_worker()
    assert env.ingest(raws) == len(raws)
    store = env.store()
    env.wait_for(f"{len(raws)} articles indexed", lambda: env.indexed(store) == len(raws),
                 timeout=180)
    env.wait_for("the alerts", lambda: len(store.alert_log()) >= len(expected["alerts"]))
    store.refresh()
    got = results(store)
    for key in ("ids", "stories", "topics", "article_story", "alerts"):
        assert got[key] == expected[key], f"{key} differ between the backends"
    for query in QUERIES:
        assert got["search"][query] == expected["search"][query], f"search {query!r} differs"
    assert any(got["search"].values())
    _same_cli_fields(env, embedded_dir)


def _same_cli_fields(env: StreamEnv, embedded_dir: Path) -> None:
    kafka = {"NEWSWIRE_BACKEND": "kafka", **{k: v for k, v in env.env.items()
                                             if k.startswith("NEWSWIRE_")}}

    def run(*args: str, on_kafka: bool) -> str:
        data = env.data_dir if on_kafka else embedded_dir
        extra = ["--backend", "kafka"] if on_kafka else []
        return newswire(env.config_dir, data, *args, *extra, env=kafka if on_kafka else {}
                        ).stdout

    for args in (("search", "agreements", "--json"), ("stories", "--json"),
                 ("alerts", "log", "--json"), ("export",)):
        embedded, kafka_out = run(*args, on_kafka=False), run(*args, on_kafka=True)
        assert _fields(embedded) == _fields(kafka_out), f"`newswire {' '.join(args)}` fields"
        assert _fields(embedded), f"`newswire {' '.join(args)}` printed nothing"


def _fields(output: str) -> set[str]:
    """Every key path in the JSON (or JSONL) output, e.g. ``hits[].story_id``."""
    text = output.strip()
    try:
        values = [json.loads(text)]
    except json.JSONDecodeError:
        values = [json.loads(line) for line in text.splitlines() if line.strip()]
    paths: set[str] = set()

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                paths.add(f"{path}.{key}")
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for item in value:
                walk(item, f"{path}[]")

    for value in values:
        walk(value, "")
    return paths
