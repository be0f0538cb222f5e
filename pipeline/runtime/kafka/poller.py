"""Into the stream: feeds and archives to ``<prefix>.raw``, with no Faust app.

    newswire poll     feeds ──▶ <prefix>.raw        (run_poller, --shard i/n)
    newswire ingest   archive ──▶ <prefix>.raw      (ingest_to_kafka)
    bad feed entries ──▶ <prefix>.dead              (stage "poll", once each)
    an item too large for Kafka even compressed ──▶ <prefix>.dead (stage "produce", with its
                     size and source; the feed's health says so; see ``limits``)
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, MessageSizeTooLargeError

from pipeline.config.settings import Settings
from pipeline.errors import SinkUnavailable
from pipeline.identity import article_id
from pipeline.models import DeadLetter, FeedSource, RawArticle
from pipeline.notify.notifier import Notifier
from pipeline.runtime.kafka.admin import ensure_topics, stream_config
from pipeline.runtime.kafka.codec import ModelCodec
from pipeline.runtime.kafka.limits import (
    COMPRESSION,
    MAX_RECORD_BYTES,
    MAX_REQUEST_BYTES,
    clip,
    oversize,
    source_of,
    summary,
    too_large,
)
from pipeline.runtime.kafka.topics import StreamConfig
from pipeline.sources.feeds import Poller
from pipeline.sources.scheduler import FeedScheduler
from pipeline.storage.sqlite.store import SqliteStore

logger = logging.getLogger(__name__)


class RawProducer:
    """Sends RawArticle (keyed by article id) and poll-stage dead letters to Kafka.

    Records are zstd-compressed; one too large even so is dead-lettered (stage "produce")
    instead of sent, and its reason kept in ``refused`` until the caller takes it.
    """

    def __init__(self, config: StreamConfig, limit: int = MAX_RECORD_BYTES) -> None:
        self.config = config
        self.limit = limit
        self.producer = AIOKafkaProducer(bootstrap_servers=config.kafka, acks="all",
                                         linger_ms=5, enable_idempotence=True,
                                         compression_type=COMPRESSION,
                                         max_request_size=MAX_REQUEST_BYTES)
        self.raw_codec = ModelCodec(RawArticle)
        self.dead_codec = ModelCodec(DeadLetter)
        self.refused: list[str] = []

    async def __aenter__(self) -> RawProducer:
        for pause in (0.5, 1, 2, 4, 8, 0):
            try:
                await ensure_topics(self.config)
                await self.producer.start()
                return self
            except KafkaConnectionError as exc:
                if not pause:
                    raise SinkUnavailable(f"Kafka at {self.config.kafka}: {exc}") from exc
                logger.warning("kafka unreachable at=%s pause=%ss", self.config.kafka, pause)
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def __aexit__(self, *exc: object) -> None:
        await self.producer.stop()

    async def send(self, raws: Iterable[RawArticle]) -> int:
        """Send the records that fit; returns how many Kafka acknowledged."""
        topic, sent = self.config.topic_name("raw"), []
        for raw in raws:
            key = raw.id or article_id(raw.link, raw.guid, raw.html or raw.text or raw.summary)
            data = self.raw_codec.dumps(raw)
            compressed = oversize(data, self.limit)
            if compressed is not None:
                await self.refuse(raw, key, too_large(len(data), compressed, source_of(raw),
                                                      self.limit))
                continue
            sent.append((raw, key, await self.producer.send(topic, data, key=key.encode())))
        done = 0
        for raw, key, future in sent:  # back-pressure: every record acknowledged
            try:
                await future
                done += 1
            except MessageSizeTooLargeError as exc:  # the broker's limit is lower than ours
                await self.refuse(raw, key, f"record refused by Kafka ({exc}); "
                                            f"source: {source_of(raw)}")
        return done

    async def refuse(self, raw: RawArticle, key: str, reason: str) -> None:
        logger.warning("dead-letter stage=produce key=%s error=%s", key, reason)
        self.refused.append(reason)
        await self.dead(DeadLetter(stage="produce", error=reason, payload=summary(raw),
                                   key=key, source=source_of(raw)))

    async def dead(self, letter: DeadLetter) -> None:
        letter = letter.model_copy(update={"payload": clip(letter.payload)})
        await self.producer.send_and_wait(self.config.topic_name("dead"),
                                          self.dead_codec.dumps(letter))


async def ingest_to_kafka(settings: Settings, raws: Iterable[RawArticle],
                          dead: Iterable[DeadLetter] = ()) -> int:
    """Send raw articles to ``<prefix>.raw`` and an archive's bad lines (``dead``) to
    ``<prefix>.dead``; returns how many articles Kafka acknowledged."""
    async with RawProducer(stream_config(settings)) as producer:
        for letter in dead:
            await producer.dead(letter)
        return await producer.send(raws)


def poller_state_path(settings: Settings) -> Path:
    """The poller's SQLite file: feed schedule, health and article identity keys."""
    return settings.data_dir / f"{settings.topic_prefix}-poller.db"


async def run_poller(settings: Settings, *, once: bool = False,
                     stop: asyncio.Event | None = None, shard: tuple[int, int] = (0, 1)) -> int:
    """Poll feeds into ``<prefix>.raw``, each on its own schedule (``once``: every owned
    feed once). Schedule, health and identity live in ``poller_state_path`` (SQLite, WAL),
    so they survive restarts and are shared by poller processes on this data dir; with
    ``shard=(i, n)`` this process polls only the feeds whose URL hashes to i (mod n)."""
    stop = stop or asyncio.Event()
    store = SqliteStore(poller_state_path(settings))
    poller = Poller.from_settings(settings)
    scheduler = FeedScheduler(poller, store, concurrency=settings.poll_concurrency, shard=shard,
                              alert_channel=settings.feed_alerts,
                              notify=Notifier.from_settings(settings).deliver)
    total = 0
    refused: dict[str, list[str]] = {}  # this round's items too large for Kafka, per feed
    try:
        async with RawProducer(stream_config(settings)) as producer:
            async def sink(feed: FeedSource, raws: list[RawArticle],
                           rejected: list[tuple[str, str]]) -> int:
                for entry, reason in rejected:  # each bad entry dead-lettered once
                    key = "dead:" + hashlib.sha1(f"{entry}\x1f{reason}".encode()).hexdigest()
                    if store.article_for_keys([key]) is None:
                        await producer.dead(DeadLetter(stage="poll", error=reason,
                                                       payload=entry, source=feed.url))
                        store.remember_keys(key, [key])
                sent = await producer.send(raws)
                if producer.refused:
                    refused[feed.url] = refused.get(feed.url, []) + producer.refused
                    producer.refused = []
                return sent

            while not stop.is_set():
                refused.clear()
                report = await scheduler.run_round(settings.feeds, sink, force=once, stop=stop)
                _show_refused(scheduler, store, refused)
                total += report.new_items
                logger.info("poll round polled=%d not_modified=%d failed=%d sent=%d",
                            report.polled, report.not_modified, report.failed,
                            report.new_items)
                if once:
                    break
                wait = scheduler.sleep_for(settings.feeds, settings.poll_interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=max(1.0, wait))
    finally:
        await poller.close()
        store.close()
    return total


def _show_refused(scheduler: FeedScheduler, store: SqliteStore,
                  refused: dict[str, list[str]]) -> None:
    """A feed whose items were too large for Kafka shows it in its health (``last_error``,
    as a warning: the feed itself works) until its next poll; ``items_refused`` counts."""
    for url, reasons in refused.items():
        state = scheduler.states.setdefault(url, {})
        more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
        state["last_error"] = f"{len(reasons)} item(s) dead-lettered: {reasons[0]}{more}"
        state["items_refused"] = int(state.get("items_refused", 0)) + len(reasons)
        store.put_feed_state(url, state)
