"""The distributed runtime: Kafka carries the stream, Faust runs the stages, ES serves search.

    newswire poll     feeds ──▶ <prefix>.raw                       (run_poller)
    newswire ingest   archive ──▶ <prefix>.raw                     (ingest_to_kafka)
    newswire worker   the agents of pipeline.stream.agents         (run_worker)
    search / stories / export / alerts log  ──▶ Elasticsearch      (search_store)

Topic and consumer-group names come from ``Settings.topic_prefix``, index names from
``Settings.index_prefix``; tests give each run its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Iterable, MutableMapping
from pathlib import Path
from typing import Any, TextIO

import faust
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError
from elasticsearch import Elasticsearch

from pipeline.config import Settings
from pipeline.errors import FetchError, SinkUnavailable
from pipeline.identity import article_id
from pipeline.models import DeadLetter, RawArticle
from pipeline.processing.stages import Stages
from pipeline.sinks.elasticsearch import ElasticsearchSink
from pipeline.sinks.notify import Notifier
from pipeline.sources.feeds import Poller, record_failure, record_success
from pipeline.storage.elasticsearch_store import ElasticsearchStore, IndexNames, install
from pipeline.stream.agents import register_agents
from pipeline.stream.codec import ModelCodec
from pipeline.stream.topics import TOPICS, Guarantee, Pipeline, StreamConfig, create_app

logger = logging.getLogger(__name__)


def stream_config(settings: Settings, *, partitions: int = 4,
                  guarantee: Guarantee = "at_least_once") -> StreamConfig:
    return StreamConfig(kafka=settings.kafka, prefix=settings.topic_prefix,
                        partitions=partitions, guarantee=guarantee,
                        datadir=settings.data_dir / "faust" / settings.topic_prefix)


def index_names(settings: Settings) -> IndexNames:
    return IndexNames(settings.index_prefix)


def search_store(settings: Settings) -> ElasticsearchStore:
    """The SearchStore of the Kafka backend (CLI search, stories, export, alerts log)."""
    return ElasticsearchStore.connect(settings.elasticsearch, settings.index_prefix)


def setup_elasticsearch(settings: Settings) -> None:
    """Install the index templates and create the aliased indices (idempotent)."""
    client = Elasticsearch(settings.elasticsearch, request_timeout=30)
    try:
        install(client, index_names(settings))
    finally:
        client.close()


def build_worker(settings: Settings, *, out: TextIO | None = None,
                 config: StreamConfig | None = None) -> Pipeline:
    """The Faust app with every agent; ``run_worker`` runs it, tests may too."""
    pipeline = create_app(config or stream_config(settings))

    def make_stages(cluster: MutableMapping[str, Any], alerts: MutableMapping[str, Any]) -> Stages:
        return Stages(list(settings.topics), list(settings.rules), cluster, alerts)

    sink = ElasticsearchSink.connect(settings.elasticsearch, settings.index_prefix)
    register_agents(pipeline, make_stages, sink, Notifier(settings.data_dir, out=out))
    return pipeline


def run_worker(settings: Settings, *, loglevel: str = "warning",
               config: StreamConfig | None = None) -> None:
    """Blocking: set up Elasticsearch and the topics, then run the agents until SIGTERM."""
    config = config or stream_config(settings)
    setup_elasticsearch(settings)
    asyncio.run(ensure_topics(config))
    pipeline = build_worker(settings, config=config)
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


async def run_poller(settings: Settings, *, once: bool = False,
                     stop: asyncio.Event | None = None) -> int:
    """Poll every feed into ``<prefix>.raw`` in rounds; feed state in data_dir (JSON)."""
    stop = stop or asyncio.Event()
    state_path = settings.data_dir / f"{settings.topic_prefix}-feeds.json"
    states = _load_states(state_path)
    poller = Poller(timeout=settings.http_timeout, user_agent=settings.user_agent)
    total = 0
    try:
        async with RawProducer(stream_config(settings)) as producer:
            while not stop.is_set():
                total += await _poll_round(settings, poller, producer, states)
                _save_states(state_path, states)
                if once:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=settings.poll_interval)
    finally:
        await poller.close()
    return total


async def _poll_round(settings: Settings, poller: Poller, producer: RawProducer,
                      states: dict[str, dict[str, Any]]) -> int:
    sent = 0
    for feed in (f for f in settings.feeds if f.enabled):
        state = states.setdefault(feed.url, {})
        try:
            result = await poller.poll(feed, state)
        except FetchError as exc:
            if record_failure(state, str(exc)):
                logger.warning("feed failing url=%s error=%s", feed.url, exc)
            continue
        for entry, reason in result.rejected:
            await producer.dead(DeadLetter(stage="poll", error=reason, payload=entry))
        count = await producer.send(result.articles)
        if record_success(result.state, count):
            logger.warning("feed recovered url=%s", feed.url)
        states[feed.url] = result.state
        sent += count
    logger.info("poll round sent=%d", sent)
    return sent


def _load_states(path: Path) -> dict[str, dict[str, Any]]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save_states(path: Path, states: dict[str, dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(states, default=str), encoding="utf-8")
    tmp.replace(path)
