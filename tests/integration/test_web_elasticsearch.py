"""The web app over the Elasticsearch store: the same answers as over SQLite (the unit
tests' articles), facets from aggregations, timelines, readiness."""

from __future__ import annotations

from pathlib import Path

import pytest
from elasticsearch import Elasticsearch, helpers
from fastapi.testclient import TestClient

from pipeline.config.settings import load_settings
from pipeline.storage.elasticsearch.store import (
    ElasticsearchStore,
    IndexNames,
    article_doc,
    install,
)
from pipeline.storage.sqlite.store import SqliteStore
from pipeline.web.app import create_app
from tests.unit.web.conftest import ARTICLES, story_of

pytestmark = pytest.mark.integration


def test_web_on_elasticsearch_matches_sqlite(es_url: str, es_names: IndexNames,
                                             tmp_path: Path) -> None:
    (tmp_path / "config").mkdir()
    cfg = load_settings(tmp_path / "config", data_dir=tmp_path / "data", env={})
    client = Elasticsearch(es_url, request_timeout=30)
    install(client, es_names)
    es = ElasticsearchStore(client, es_names)
    helpers.bulk(client, ({"_index": es_names.articles, "_id": a.id, "_source": article_doc(a)}
                          for a in ARTICLES))
    for sid in ("s-pact", "s-quake", "s-evil"):
        story = story_of(sid)
        client.index(index=es_names.stories, id=sid,
                     document={**story.model_dump(mode="json"),
                               "article_count": story.article_count})
    es.refresh()
    sqlite = SqliteStore(cfg.db_path)
    for a in ARTICLES:
        sqlite.put_article(a)
    for sid in ("s-pact", "s-quake", "s-evil"):
        sqlite.put_story(story_of(sid))
    on_es, on_sqlite = TestClient(create_app(es, cfg)), TestClient(create_app(sqlite, cfg))

    for params in ({"q": "agreement"}, {"q": "security", "topic": "nato"},
                   {"q": "security", "lang": "de"}, {"source": "wire"},
                   {"q": "security", "since": "2024-06-13"}):
        a = on_es.get("/api/search", params=params).json()
        b = on_sqlite.get("/api/search", params=params).json()
        assert {h["id"] for h in a["hits"]} == {h["id"] for h in b["hits"]}, params
        for kind in ("topics", "sources", "langs", "dates"):
            assert sorted(map(tuple, a["facets"][kind])) == \
                sorted(map(tuple, b["facets"][kind])), (params, kind)
        assert a["facets"]["total"] == b["facets"]["total"]
    timeline = on_es.get("/api/stories/s-pact").json()
    assert [x["id"] for x in timeline["articles"]] == ["a0", "a1", "a2"]
    assert on_es.get("/readyz").json() == {"ready": True}
    assert "&lt;script&gt;" in on_es.get("/story/s-evil").text
