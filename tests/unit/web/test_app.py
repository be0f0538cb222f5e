"""The web app at unit level (FastAPI TestClient over a real SQLite store)."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from pipeline.config.settings import Settings
from pipeline.storage.sqlite.store import SqliteStore
from pipeline.web.app import create_app
from tests.unit.web.conftest import FEED


def test_search_api_hits_groups_and_facets(client: TestClient) -> None:
    body = client.get("/api/search", params={"q": "agreement"}).json()
    assert {h["id"] for h in body["hits"]} == {"a0", "a2", "a4"}
    assert [g["story_id"] for g in body["groups"]][0] in {"s-pact", "s-evil"}
    pact = next(g for g in body["groups"] if g["story_id"] == "s-pact")
    assert pact["article_count"] == 3 and pact["sources"] == ["daily", "paper", "wire"]
    facets = body["facets"]
    assert facets["total"] == 3
    assert dict(facets["sources"]) == {"wire": 1, "daily": 1, "evil": 1}
    assert dict(facets["langs"]) == {"en": 2, "de": 1}
    assert dict(facets["topics"]) == {"security-pacts": 3}
    assert dict(facets["dates"]) == {"2024-06-13": 3}


def test_filters_compose_into_the_query(client: TestClient) -> None:
    def ids(**params: str) -> set[str]:
        return {h["id"] for h in client.get("/api/search", params=params).json()["hits"]}

    assert ids(q="security", topic="nato") == {"a1"}
    assert ids(q="security", source="wire") == {"a0"}
    assert ids(q="security", lang="de") == {"a2"}
    assert ids(since="2024-06-14") == set()
    assert ids(topic="quakes") == {"a3"}
    composed = client.get("/api/search", params={"q": "pact", "topic": "nato"}).json()
    assert composed["composed"] == '(pact) AND topic:"nato"'


def test_paging(client: TestClient) -> None:
    first = client.get("/api/search", params={"q": "security", "limit": 2}).json()
    second = client.get("/api/search", params={"q": "security", "limit": 2, "page": 2}).json()
    assert first["has_next"] and not second["has_next"]
    assert len(first["hits"]) == 2 and len(second["hits"]) == 2
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}


def test_parse_errors_are_readable(client: TestClient) -> None:
    api = client.get("/api/search", params={"q": "pact AND ("})
    assert api.status_code == 400 and "cannot parse query" in api.json()["detail"]
    page = client.get("/", params={"q": "pact AND ("})
    assert page.status_code == 400
    assert 'role="alert"' in page.text and "does not parse" in page.text
    bad_since = client.get("/api/search", params={"q": "pact", "since": "yesterday"})
    assert bad_since.status_code == 400 and "now-7d" in bad_since.json()["detail"]


def test_story_timeline(client: TestClient) -> None:
    body = client.get("/api/stories/s-pact").json()
    assert [a["id"] for a in body["articles"]] == ["a0", "a1", "a2"]
    assert [a["near_copy_of"] for a in body["articles"]] == [None, "a0", None]
    page = client.get("/story/s-pact")
    assert page.status_code == 200 and page.text.count('class="entry') == 3
    assert "near-copy" in page.text
    assert body["articles"][1]["story_evidence"]["score"] == 0.91  # why a1 joined
    assert "joined at 0.91 (needs 0.40) · where: kyiv" in page.text
    assert client.get("/api/stories/nope").status_code == 404
    assert client.get("/story/nope").status_code == 404


def test_untrusted_content_is_inert(client: TestClient) -> None:
    for path in ("/?q=agreement", "/story/s-evil", "/feeds"):
        html = client.get(path).text
        assert "<script>window" not in html and "<img src=x" not in html, path
        assert "onerror=\"window" not in html, path
        assert not re.search(r"href=[\"']?javascript:", html, re.I), path
        assert len(re.findall(r"<script\b", html)) == 1, path  # only /static/app.js
    html = client.get("/?q=agreement").text
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "<mark>agreement</mark>" in html
    assert "HTTP 503 &lt;b&gt;down&lt;/b&gt;" in client.get("/feeds").text


def test_security_headers(client: TestClient) -> None:
    csp = client.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "default-src 'none'" in csp
    assert client.get("/static/app.js").headers["x-content-type-options"] == "nosniff"


def test_alerts_and_feeds(client: TestClient) -> None:
    alerts = client.get("/api/alerts").json()
    assert [r["name"] for r in alerts["rules"]] == ["pact"]
    assert [(e["rule"], e["story_id"]) for e in alerts["fired"]] == [("pact", "s-pact")]
    feeds = client.get("/api/feeds").json()
    assert feeds[0]["url"] == FEED and feeds[0]["state"] == "failing"
    assert "Pact story 0" in client.get("/alerts").text


def test_health_ready_metrics(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok"
    assert client.get("/readyz").json() == {"ready": True}
    client.get("/api/search", params={"q": "pact"})
    text = client.get("/metrics").text
    assert "newswire_search_seconds_count" in text
    assert "newswire_articles_total" in text or "# HELP newswire_articles" in text


def test_not_ready_when_the_store_is_gone(store: SqliteStore, settings: Settings) -> None:
    client = TestClient(create_app(store, settings))
    store.close()
    assert client.get("/readyz").status_code == 503


def test_token(store: SqliteStore, settings: Settings) -> None:
    client = TestClient(create_app(store, settings, token="s3cret"))
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/search", params={"q": "pact"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = client.get("/?token=s3cret")
    assert first.status_code == 200 and "newswire_token" in first.headers["set-cookie"]
    assert client.get("/api/alerts").status_code == 200  # the cookie now
