"""One-shot setup of the search side: Elasticsearch templates + Kibana saved objects.

    newswire setup [--kibana http://kibana:5601]         templates, indices, saved objects
    newswire kibana write config/kibana/newswire.ndjson  the saved objects as a file

Kibana objects are code: ``saved_objects`` builds them from config/topics.yaml (a data
view on ``newswire-articles`` with ``published`` as time field, one on stories, a saved
search per topic, a dashboard: articles over time by topic, top sources, largest
stories); ``config/kibana/newswire.ndjson`` is its output, checked by a test.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from pipeline.errors import SinkUnavailable
from pipeline.models import AlertRule
from pipeline.processing.tag import TopicRule

logger = logging.getLogger(__name__)
# the shipped defaults (pipeline/defaults, the repo's config/): found from an installed package too
KIBANA_FILE = Path(__file__).resolve().parents[2] / "defaults" / "kibana" / "newswire.ndjson"
ARTICLES, STORIES = "newswire-articles", "newswire-stories"
_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


def _search_source(query: str) -> dict[str, Any]:
    return {"searchSourceJSON": json.dumps({
        "query": {"query": query, "language": "lucene"}, "filter": [],
        "indexRefName": _INDEX_REF})}


def _ref(view: str) -> list[dict[str, str]]:
    return [{"name": _INDEX_REF, "type": "index-pattern", "id": view}]


def _saved_search(oid: str, title: str, view: str, query: str, columns: list[str],
                  sort: list[list[str]]) -> dict[str, Any]:
    return {"type": "search", "id": oid, "references": _ref(view), "attributes": {
        "title": title, "columns": columns, "sort": sort,
        "kibanaSavedObjectMeta": _search_source(query)}}


def _visualization(oid: str, title: str, vis: dict[str, Any]) -> dict[str, Any]:
    return {"type": "visualization", "id": oid, "references": _ref(ARTICLES), "attributes": {
        "title": title, "visState": json.dumps({"title": title, **vis}), "uiStateJSON": "{}",
        "description": "", "kibanaSavedObjectMeta": _search_source("")}}


def _terms(schema: str, field: str, size: int, aid: str) -> dict[str, Any]:
    return {"id": aid, "enabled": True, "type": "terms", "schema": schema,
            "params": {"field": field, "size": size, "order": "desc", "orderBy": "1"}}


_KIBANA_FIELDS = {"topic": "topics", "story": "story_id", "text": "text", "title": "title"}


def kibana_query(query: str) -> str:
    """A rule's query for Kibana's Lucene mode: newswire's field names mapped to the index's
    (``topic:`` → ``topics:``). Kibana applies Elasticsearch's own analysis; newswire's exact
    semantics (stemming, folding) are those of ``newswire search``."""
    return re.sub(r"\b(topic|story):", lambda m: _KIBANA_FIELDS[m.group(1)] + ":", query)


def saved_objects(topics: Sequence[TopicRule],
                  rules: Sequence[AlertRule] = ()) -> list[dict[str, Any]]:
    """Every Kibana object newswire ships, in import order."""
    count = {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {}}
    objects: list[dict[str, Any]] = [
        {"type": "index-pattern", "id": ARTICLES, "attributes": {
            "title": ARTICLES, "name": "newswire articles", "timeFieldName": "published"}},
        {"type": "index-pattern", "id": STORIES, "attributes": {
            "title": STORIES, "name": "newswire stories", "timeFieldName": "last_seen"}},
    ]
    objects += [_saved_search(f"newswire-topic-{t.name}", f"Topic: {t.name}", ARTICLES,
                              f'topics:"{t.name}"', ["title", "source", "topics"],
                              [["published", "desc"]]) for t in topics]
    objects += [_saved_search(f"newswire-alert-{r.name}", f"Alert rule: {r.name}", ARTICLES,
                              kibana_query(r.query), ["title", "source", "topics"],
                              [["published", "desc"]]) for r in rules]
    objects += [
        _saved_search("newswire-largest-stories", "Largest stories", STORIES, "",
                      ["headline", "article_count", "sources"], [["article_count", "desc"]]),
        _visualization("newswire-articles-by-topic", "Articles over time by topic", {
            "type": "histogram", "params": {"type": "histogram"}, "aggs": [
                count,
                {"id": "2", "enabled": True, "type": "date_histogram", "schema": "segment",
                 "params": {"field": "published", "interval": "auto"}},
                _terms("group", "topics", 10, "3")]}),
        _visualization("newswire-top-sources", "Top sources", {
            "type": "table", "params": {"perPage": 10}, "aggs": [
                count, _terms("bucket", "source", 20, "2")]}),
    ]
    panels = ["newswire-articles-by-topic", "newswire-top-sources", "newswire-largest-stories"]
    types = {o["id"]: o["type"] for o in objects}
    objects.append({"type": "dashboard", "id": "newswire-overview", "attributes": {
        "title": "newswire overview", "timeRestore": False, "description": "",
        "panelsJSON": json.dumps([
            {"panelIndex": str(i), "panelRefName": f"panel_{i}", "embeddableConfig": {},
             "gridData": {"x": 24 * (i % 2), "y": 15 * (i // 2), "w": 24, "h": 15,
                          "i": str(i)}} for i in range(len(panels))]),
        "kibanaSavedObjectMeta": _search_source("")},
        "references": [{"name": f"panel_{i}", "type": types[p], "id": p}
                       for i, p in enumerate(panels)]})
    return objects


def ndjson(topics: Sequence[TopicRule], rules: Sequence[AlertRule] = ()) -> str:
    return "".join(json.dumps(o, sort_keys=True) + "\n" for o in saved_objects(topics, rules))


def import_kibana(url: str, body: str, *, wait: float = 300.0) -> None:
    """Import the saved objects (overwrite), waiting for Kibana to come up."""
    deadline = time.monotonic() + wait
    while True:
        try:
            response = httpx.post(f"{url}/api/saved_objects/_import?overwrite=true",
                                  headers={"kbn-xsrf": "newswire"}, timeout=60,
                                  files={"file": ("newswire.ndjson", body.encode())})
            if response.status_code == 200 and response.json().get("success"):
                return
            problem = f"{response.status_code}: {response.text[:500]}"
        except httpx.HTTPError as exc:
            problem = str(exc)
        if time.monotonic() > deadline:
            raise SinkUnavailable(f"kibana import failed: {problem}")
        logger.warning("kibana not ready url=%s problem=%s", url, problem)
        time.sleep(5)
