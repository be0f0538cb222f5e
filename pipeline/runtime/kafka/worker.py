"""The distributed runtime: Kafka carries the stream, Faust runs the stages, ES serves search.

    newswire poll     feeds ──▶ <prefix>.raw                       (run_poller, --shard i/n)
    newswire ingest   archive ──▶ <prefix>.raw                     (ingest_to_kafka)
    newswire worker   the agents of pipeline.runtime.kafka.agents         (run_worker, --role)
    search / stories / export / alerts log  ──▶ Elasticsearch      (search_store)

Topic and consumer-group names come from ``Settings.topic_prefix``, index names from
``Settings.index_prefix``; tests give each run its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any, TextIO

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from elasticsearch import ConnectionError as ESConnectionError
from elasticsearch import ConnectionTimeout, Elasticsearch

from pipeline.config.settings import Settings
from pipeline.errors import SinkUnavailable
from pipeline.identity import article_id
from pipeline.models import DeadLetter, FeedSource, RawArticle
from pipeline.notify.notifier import Notifier
from pipeline.processing.stages import Stages
from pipeline.runtime.kafka.agents import Batching, Role, register_agents
from pipeline.runtime.kafka.codec import ModelCodec
from pipeline.runtime.kafka.topics import TOPICS, Guarantee, Pipeline, StreamConfig, create_app
from pipeline.sources.feeds import Poller
from pipeline.sources.scheduler import FeedScheduler
from pipeline.storage.elasticsearch.sink import ElasticsearchSink
from pipeline.storage.elasticsearch.store import ElasticsearchStore, IndexNames, install
from pipeline.storage.sqlite.store import SqliteStore

logger = logging.getLogger(__name__)


def stream_config(settings: Settings, *, partitions: int | None = None,
                  guarantee: Guarantee = "at_least_once", role: Role = "all") -> StreamConfig:
    return StreamConfig(kafka=settings.kafka, prefix=settings.topic_prefix,
                        partitions=partitions or settings.kafka_partitions, guarantee=guarantee,
                        datadir=settings.data_dir / "faust" / settings.topic_prefix,
                        group="stateless" if role == "stateless" else "worker")


def index_names(settings: Settings) -> IndexNames:
    return IndexNames(settings.index_prefix)


def search_store(settings: Settings) -> ElasticsearchStore:
    """The SearchStore of the Kafka backend (CLI search, stories, export, alerts log)."""
    return ElasticsearchStore.connect(settings.elasticsearch, settings.index_prefix)


def setup_elasticsearch(settings: Settings, *, wait: float = 120.0) -> None:
    """Install the index templates and create the aliased indices (idempotent).

    Waits up to ``wait`` seconds for Elasticsearch to answer (it may still be starting)."""
    client = Elasticsearch(settings.elasticsearch, request_timeout=30)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                install(client, index_names(settings))
                return
            except (ESConnectionError, ConnectionTimeout) as exc:
                if time.monotonic() > deadline:
                    raise SinkUnavailable(f"Elasticsearch at {settings.elasticsearch}: {exc}",
                                          retry_after=5) from exc
                logger.warning("elasticsearch unreachable at=%s", settings.elasticsearch)
                time.sleep(2)
    finally:
        client.close()


def build_worker(settings: Settings, *, out: TextIO | None = None,
                 config: StreamConfig | None = None, role: Role = "all") -> Pipeline:
    """The Faust app with the agents of ``role``; ``run_worker`` runs it, tests may too."""
    pipeline = create_app(config or stream_config(settings, role=role))

    def make_stages(cluster: MutableMapping[str, Any], alerts: MutableMapping[str, Any]) -> Stages:
        return Stages(list(settings.topics), list(settings.rules), cluster, alerts)

    sink = ElasticsearchSink.connect(settings.elasticsearch, settings.index_prefix)
    register_agents(pipeline, make_stages, sink, Notifier.from_settings(settings, out=out),
                    role=role, batching=Batching(settings.worker_batch,
                                                 settings.worker_batch_within,
                                                 settings.worker_digest_tick))
    return pipeline


def run_worker(settings: Settings, *, loglevel: str = "warning",
               config: StreamConfig | None = None, role: Role = "all") -> None:
    """Blocking: set up Elasticsearch and the topics, then run the agents of ``role``
    (``all``; or ``stateless`` / ``stateful`` in separate processes) until SIGTERM."""
    config = config or stream_config(settings, role=role)
    setup_elasticsearch(settings)
    asyncio.run(ensure_topics(config))
    pipeline = build_worker(settings, config=config, role=role)
    worker = faust.Worker(pipeline.app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()


# -- producing ---------------------------------------------------------------------------

async def ensure_topics(config: StreamConfig) -> None:
    """Create the five topics with their partition counts (before anything produces)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=config.kafka)
    await admin.start()
    try:
        for key in TOPICS:
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([NewTopic(config.topic_name(key),
                                                    config.partitions_of(key), 1)])
    finally:
        await admin.close()


class RawProducer:
    """Sends RawArticle (keyed by article id) and poll-stage dead letters to Kafka."""

    def __init__(self, config: StreamConfig) -> None:
        self.config = config
        self.producer = AIOKafkaProducer(bootstrap_servers=config.kafka, acks="all",
                                         linger_ms=5, enable_idempotence=True)
        self.raw_codec = ModelCodec(RawArticle)
        self.dead_codec = ModelCodec(DeadLetter)

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
        topic, sent = self.config.topic_name("raw"), []
        for raw in raws:
            key = raw.id or article_id(str(raw.url), raw.guid)
            sent.append(await self.producer.send(topic, self.raw_codec.dumps(raw),
                                                 key=key.encode()))
        await asyncio.gather(*sent)  # back-pressure: every record acknowledged
        return len(sent)

    async def dead(self, letter: DeadLetter) -> None:
        await self.producer.send_and_wait(self.config.topic_name("dead"),
                                          self.dead_codec.dumps(letter))


async def ingest_to_kafka(settings: Settings, raws: Iterable[RawArticle]) -> int:
    """Send raw articles to ``<prefix>.raw``; returns how many Kafka acknowledged."""
    async with RawProducer(stream_config(settings)) as producer:
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
    try:
        async with RawProducer(stream_config(settings)) as producer:
            async def sink(feed: FeedSource, raws: list[RawArticle],
                           rejected: list[tuple[str, str]]) -> int:
                for entry, reason in rejected:  # each bad entry dead-lettered once
                    key = "dead:" + hashlib.sha1(f"{entry}\x1f{reason}".encode()).hexdigest()
                    if store.article_for_keys([key]) is None:
                        await producer.dead(DeadLetter(stage="poll", error=reason, payload=entry))
                        store.remember_keys(key, [key])
                return await producer.send(raws)

            while not stop.is_set():
                report = await scheduler.run_round(settings.feeds, sink, force=once, stop=stop)
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
