"""`newswire poll` against a real local HTTP feed and the real broker: entries land in
``<prefix>.raw`` keyed by article id; a second round sends nothing new."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from pipeline.identity import article_id
from pipeline.models import RawArticle
from pipeline.runtime.kafka.poller import run_poller
from tests.integration.conftest import KAFKA, StreamEnv

pytestmark = pytest.mark.integration

ITEM = ("<item><title>Story {n}</title><link>https://feed.example/story-{n}</link>"
        "<guid>story-{n}</guid><pubDate>Thu, 13 Jun 2024 0{n}:00:00 GMT</pubDate>"
        "<description>Paragraph {n} about the harbour opening in Kalomiru.</description></item>")


def rss(n: int) -> str:
    items = "".join(ITEM.format(n=i) for i in range(n))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
            f"<title>Feed</title><link>https://feed.example/</link>{items}</channel></rss>")


async def read_raw(topic: str, at_least: int) -> list[tuple[str, RawArticle]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=KAFKA, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    out: list[tuple[str, RawArticle]] = []
    try:
        for _ in range(20):
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                out += [(r.key.decode(), RawArticle.model_validate_json(r.value))
                        for r in records]
            if len(out) >= at_least:
                await asyncio.sleep(1)  # and nothing more arrives
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    out += [(r.key.decode(), RawArticle.model_validate_json(r.value))
                            for r in records]
                break
    finally:
        await consumer.stop()
    return out


def test_poll_once_sends_feed_entries_to_raw(stream_env: StreamEnv,
                                            http_dir: tuple[Path, str]) -> None:
    root, base = http_dir
    (root / "feed.xml").write_text(rss(3), encoding="utf-8")
    settings = stream_env.with_feed(f"{base}/feed.xml", "Test feed")
    assert asyncio.run(run_poller(settings, once=True)) == 3
    assert asyncio.run(run_poller(settings, once=True)) == 0  # feed state kept
    sent = asyncio.run(read_raw(f"{stream_env.prefix}.raw", at_least=3))
    assert len(sent) == 3
    for key, raw in sent:
        assert key == raw.id or key == article_id(str(raw.url), raw.guid)
