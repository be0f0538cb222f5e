"""/dead-letters, /api/dead-letters and the dead-letter metrics, over the SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from pipeline.models import DeadLetter
from pipeline.storage.sqlite.store import SqliteStore
from tests.unit.web.conftest import PAYLOAD


def fill(store: SqliteStore) -> None:
    store.put_dead(DeadLetter(
        stage="clean", error="NotAnArticle: not an article (paywall): https://p.example/1",
        payload=f'{{"url": "https://p.example/1", "title": "Evil {PAYLOAD}"}}',
        at=datetime(2024, 6, 13, 9, tzinfo=UTC)), "a-paywall")
    store.put_dead(DeadLetter(stage="ingest", error="line 4: missing required field 'url'",
                              payload='{"title": "x"}', source="old.jsonl:4",
                              at=datetime(2024, 6, 14, 9, tzinfo=UTC)))


def test_api_lists_newest_first_with_times_in_z(client: TestClient, store: SqliteStore) -> None:
    fill(store)
    body = client.get("/api/dead-letters").json()
    assert [set(d) for d in body["dead_letters"]] == [
        {"key", "stage", "reason", "at", "source", "preview"}] * 2
    first, second = body["dead_letters"]
    assert (first["stage"], first["at"], first["source"]) == (
        "ingest", "2024-06-14T09:00:00Z", "old.jsonl:4")
    assert second["key"] == "a-paywall" and second["source"] == "https://p.example/1"
    only = client.get("/api/dead-letters", params={"stage": "clean"}).json()["dead_letters"]
    assert [d["key"] for d in only] == ["a-paywall"]
    recent = client.get("/api/dead-letters", params={"since": "2024-06-14"}).json()
    assert [d["stage"] for d in recent["dead_letters"]] == ["ingest"]
    bad = client.get("/api/dead-letters", params={"since": "yesterday"})
    assert bad.status_code == 400 and "yesterday" in bad.json()["detail"]


def test_page_lists_them_escaped(client: TestClient, store: SqliteStore) -> None:
    fill(store)
    page = client.get("/dead-letters")
    assert page.status_code == 200
    assert "a-paywall" in page.text and "old.jsonl:4" in page.text
    assert "<script>window.__pwned" not in page.text and "&lt;script&gt;" in page.text
    assert "no dead letters at stage poll" in client.get("/dead-letters?stage=poll").text
    assert 'class="error"' in client.get("/dead-letters?since=nonsense").text


def test_metrics_count_letters_held_and_recorded(client: TestClient,
                                                 store: SqliteStore) -> None:
    fill(store)
    text = client.get("/metrics").text
    assert 'newswire_dead_letters{reason="paywall",stage="clean"} 1.0' in text
    assert 'newswire_dead_letters{reason="missing-field",stage="ingest"} 1.0' in text
    assert 'newswire_dead_letters_total{reason="paywall",stage="clean"}' in text
    store.forget_dead(["a-paywall"])
    assert 'newswire_dead_letters{reason="paywall"' not in client.get("/metrics").text
