"""Issue #16 item 1: one item over Kafka's size limit, on both backends, through the real CLI
and the real broker. Embedded indexes every item; on Kafka an item that fits once compressed
is indexed, one too large even compressed is dead-lettered with its size and source, the
small item beside it is indexed, and ingest and the poller exit 0 and go on."""

from __future__ import annotations

import asyncio
import json
import random
import string
from pathlib import Path

import pytest

from pipeline.runtime.kafka.limits import MAX_RECORD_BYTES
from pipeline.runtime.kafka.poller import poller_state_path, run_poller
from pipeline.storage.sqlite.store import SqliteStore
from tests.conftest import REPO, newswire
from tests.integration.conftest import StreamEnv

pytestmark = pytest.mark.integration

SENTENCE = "The harbour of Kalomiru opened a new pier for ferries and fishing boats. "


def compressible() -> str:
    """About 1.6 MB of prose: over the limit as JSON, far under it compressed."""
    return SENTENCE * (1_600_000 // len(SENTENCE))


def incompressible() -> str:
    """About 2.4 MB of random words: over the limit even compressed."""
    rng = random.Random(16)
    alphabet = string.ascii_letters + string.digits
    words = ("".join(rng.choices(alphabet, k=8)) for _ in range(270_000))
    return "harbour " + " ".join(words)


ITEMS = [
    {"url": "https://big.example/pier", "title": "Kalomiru harbour pier, the long version",
     "source": "Big", "text": compressible()},
    {"url": "https://huge.example/noise", "title": "Kalomiru harbour noise",
     "source": "Huge", "text": incompressible()},
    {"url": "https://small.example/ferry", "title": "Kalomiru harbour ferry",
     "source": "Small", "text": "The harbour of Kalomiru opened a ferry line on Monday."},
]


def archive(tmp_path: Path) -> Path:
    path = tmp_path / "big.jsonl"
    path.write_text("".join(json.dumps(item) + "\n" for item in ITEMS), encoding="utf-8")
    assert len(ITEMS[0]["text"]) > MAX_RECORD_BYTES and len(ITEMS[1]["text"]) > MAX_RECORD_BYTES
    return path


def test_embedded_ingest_indexes_the_oversized_items(tmp_path: Path) -> None:
    data = tmp_path / "data"
    newswire(REPO / "config", data, "ingest", str(archive(tmp_path)))
    store = SqliteStore(data / "newswire.db")
    try:
        urls = {a.url for a in store.export()}
    finally:
        store.close()
    assert urls == {item["url"] for item in ITEMS}


def test_kafka_ingest_compresses_or_dead_letters_and_goes_on(stream_env: StreamEnv,
                                                             tmp_path: Path) -> None:
    result = newswire(stream_env.config_dir, stream_env.data_dir, "--backend", "kafka",
                      "ingest", str(archive(tmp_path)), env=stream_env.env)
    assert "sent 2 articles" in result.stderr, result.stderr
    letters = [letter for _, letter in stream_env.dead_letters(at_least=1, timeout=20)]
    assert [letter.stage for letter in letters] == ["produce"]
    assert "record too large" in letters[0].error
    assert "https://huge.example/noise" in letters[0].error  # the source
    assert "bytes" in letters[0].error and len(letters[0].payload) < 10_000
    stream_env.start_worker()
    store = stream_env.store()
    try:
        stream_env.wait_for("the big and the small item indexed",
                            lambda: stream_env.indexed(store) >= 2)
        store.refresh()
        urls = {a.url for a in store.export()}
    finally:
        store.close()
    assert urls == {ITEMS[0]["url"], ITEMS[2]["url"]}


def rss(base: str) -> str:
    items = "".join(
        f"<item><title>{item['title']}</title><link>{item['url']}</link>"
        f"<guid>{item['url']}</guid><description>{item['text']}</description></item>"
        for item in ITEMS)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Big feed</title><link>{base}/</link>{items}</channel></rss>")


def test_poller_dead_letters_the_huge_item_and_the_feed_shows_it(
        stream_env: StreamEnv, http_dir: tuple[Path, str]) -> None:
    root, base = http_dir
    (root / "feed.xml").write_text(rss(base), encoding="utf-8")
    settings = stream_env.with_feed(f"{base}/feed.xml", "Big feed")
    assert asyncio.run(run_poller(settings, once=True)) == 2
    letters = [letter for _, letter in stream_env.dead_letters(at_least=1, timeout=20)]
    assert len(letters) == 1 and letters[0].stage == "produce"
    assert f"feed {base}/feed.xml" in letters[0].error
    assert "https://huge.example/noise" in letters[0].error
    store = SqliteStore(poller_state_path(settings))
    try:
        state = store.feed_states()[f"{base}/feed.xml"]
    finally:
        store.close()
    assert state["state"] == "ok" and state["items_refused"] == 1
    assert "1 item(s) dead-lettered: record too large" in str(state["last_error"])
    assert asyncio.run(run_poller(settings, once=True)) == 0  # a restart does not retry it
    assert len(stream_env.dead_letters(at_least=2, timeout=3)) == 1
