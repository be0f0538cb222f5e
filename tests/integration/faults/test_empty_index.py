"""The sink on the shared Elasticsearch when its indices vanish (as on a node that came back
empty): it sets templates and aliases up again and never writes through a dynamic mapping.
Only this test's own prefix is dropped; nothing is restarted."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
from elasticsearch import AsyncElasticsearch, Elasticsearch

from pipeline.models import AlertEvent
from pipeline.storage.elasticsearch.sink import ElasticsearchSink
from pipeline.storage.elasticsearch.store import ElasticsearchStore, IndexNames, drop, install
from tests.integration.conftest import make_settings
from tests.integration.corpus import articles
from tests.integration.test_elasticsearch_store import enrich_all

pytestmark = pytest.mark.integration


def test_sink_sets_up_a_vanished_index_again(es_url: str, es_names: IndexNames,
                                             tmp_path: Path, unique: str,
                                             caplog: pytest.LogCaptureFixture) -> None:
    out = enrich_all(make_settings(tmp_path, unique), articles(n_stories=4, seed=5))
    client = Elasticsearch(es_url)
    install(client, es_names)

    async def write(start: int, stop: int) -> list[object]:
        sink = ElasticsearchSink(AsyncElasticsearch(es_url), es_names)
        try:
            rejected = await sink.write([e.article for e in out[start:stop]],
                                        [(e.story, i) for i, e in enumerate(out[start:stop])])
            first = out[start]
            alert = AlertEvent(rule="r", story_id=first.story.id, article_id=first.article.id,
                               headline="h", query="q", channel="jsonl:a.jsonl")
            assert not await sink.has_alert(alert)
            await sink.record_alert(alert)
            assert sink.take_lost() == (start > 0) and not sink.take_lost()
            return list(rejected)
        finally:
            await sink.close()

    assert asyncio.run(write(0, 10)) == []
    drop(client, es_names)  # the cluster lost everything of this prefix
    with caplog.at_level(logging.WARNING, logger="pipeline.storage.elasticsearch.sink"):
        assert asyncio.run(write(10, 20)) == []
    assert "installing templates and aliases again" in caplog.text
    store = ElasticsearchStore(client, es_names)
    store.refresh()
    assert store.count("articles") == 10  # what was written since; the rest is gone with it
    for kind in ("articles", "stories", "alerts"):
        (mapping,) = client.indices.get_mapping(index=es_names.alias(kind)).values()
        assert mapping["mappings"].get("dynamic") in (False, "false"), kind
        assert list(client.indices.get_alias(name=es_names.alias(kind))) == [
            es_names.index(kind)]  # the versioned index, not one a write auto-created
    client.close()
