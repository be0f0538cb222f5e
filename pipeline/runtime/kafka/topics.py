"""The Kafka pipeline map: the Faust app and every topic with its record type.

    <prefix>.raw       RawArticle      key article id   N partitions   poller / ingest → clean
    <prefix>.clean     AnalysedEvent   key article id   1 partition    clean → story agent
    <prefix>.enriched  EnrichedEvent   key article id   N partitions   story agent → ES sink
    <prefix>.alerts    AlertEvent      key story id     1 partition    story agent → delivery
    <prefix>.dead      DeadLetter      key article id   1 partition    any agent (poison input)

Tables (changelogged in ``<app id>-<table>-changelog``): ``cluster-state``, ``alert-keys``
and ``seen`` (the story agent's). The prefix (``Settings.topic_prefix``) names the topics
and the consumer groups (``<prefix>-worker`` for the story agent or every agent,
``<prefix>-stateless`` for stateless-only workers), so tests run side by side on one broker.
N is ``Settings.kafka_partitions``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import faust
from pydantic import BaseModel

from pipeline.models import (
    AlertEvent,
    Article,
    DeadLetter,
    EnrichedArticle,
    RawArticle,
    Story,
    TopicMatch,
)
from pipeline.processing.cluster.features import Features
from pipeline.processing.stages import Analysed
from pipeline.processing.tag import document_of
from pipeline.runtime.kafka import faust_compat
from pipeline.runtime.kafka.codec import ModelCodec
from pipeline.runtime.kafka.faust_compat.tables import widen_producer_buffer
from pipeline.runtime.kafka.limits import COMPRESSION, MAX_REQUEST_BYTES

Guarantee = Literal["at_least_once", "exactly_once"]
Role = Literal["all", "stateless", "stateful"]  # which agents a worker runs (its group)


class AnalysedEvent(BaseModel):
    """What the clean agent emits: the article with the stateless half of enrichment done
    (topics with their evidence, cluster features), so the single story agent only assigns.

    ``features``: every field of ``processing.features.Features`` but the body words (only
    the MinHash signature made from them is needed). ``terms``: the analysed terms of the
    title, text and author, so the story agent matches alert rules without analysing the
    text again (the serial part stays small).
    """

    article: Article
    matches: list[TopicMatch]
    features: dict[str, Any]
    terms: dict[str, list[str]] = {}

    @classmethod
    def of(cls, analysed: Analysed) -> AnalysedEvent:
        f = analysed.cluster_features or Features()
        return cls(article=analysed.article, matches=analysed.matches,
                   features={name: getattr(f, name) for name in _SENT_FEATURES},
                   terms={n: i.terms for n, i in analysed.document.fields.items()})

    def analysed(self) -> Analysed:
        features = Features(**{k: v for k, v in self.features.items() if k in _SENT_FEATURES})
        return Analysed(self.article, document_of(self.article, analysed=self.terms),
                        self.matches, cluster_features=features)


_SENT_FEATURES = tuple(f.name for f in fields(Features) if f.name != "words")


class EnrichedEvent(BaseModel):
    """What the story agent emits per article: the article, its story snapshot, merges.

    ``revision`` is the number of articles the story agent had assigned when it made the
    snapshot (kept in its state, so it rises across restarts and re-reads, unlike input
    offsets), so the sink keeps the newest snapshot whatever order snapshots arrive in.
    """

    article: EnrichedArticle
    story: Story
    revision: int
    merged_story_ids: list[str] = []


@dataclass(frozen=True)
class TopicSpec:
    suffix: str
    record: type[BaseModel]
    partitions: int | None  # None: the configured partition count (scaled-out stages)


TOPICS: dict[str, TopicSpec] = {
    "raw": TopicSpec("raw", RawArticle, None),
    "clean": TopicSpec("clean", AnalysedEvent, 1),
    "enriched": TopicSpec("enriched", EnrichedEvent, None),
    "alerts": TopicSpec("alerts", AlertEvent, 1),
    "dead": TopicSpec("dead", DeadLetter, 1),
}


@dataclass(frozen=True)
class StreamConfig:
    """Where the stream runs and under which names."""

    kafka: str = "127.0.0.1:9092"
    prefix: str = "newswire"
    partitions: int = 4
    guarantee: Guarantee = "at_least_once"
    datadir: Path = Path("data/faust")
    session_timeout: float = 10.0  # how soon a crashed worker's partitions move on
    group: str = "worker"  # consumer group (and Faust app id) suffix: one per worker role

    def topic_name(self, key: str) -> str:
        return f"{self.prefix}.{TOPICS[key].suffix}"

    def partitions_of(self, key: str) -> int:
        return TOPICS[key].partitions or self.partitions

    @property
    def app_id(self) -> str:
        return f"{self.prefix}-{self.group}"


@dataclass
class Pipeline:
    """The Faust app with its topics, as agents and producers use them."""

    config: StreamConfig
    app: faust.App
    topics: dict[str, faust.TopicT] = field(default_factory=dict)

    def __getitem__(self, key: str) -> faust.TopicT:
        return self.topics[key]


def create_app(config: StreamConfig, **app_options: Any) -> Pipeline:
    """One faust.App and the five topics; agents are added by ``pipeline.runtime.kafka.agents``."""
    faust_compat.install()  # refuses an unsupported faust-streaming; patches it once
    datadir = config.datadir / config.group
    datadir.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        config.app_id,
        broker=f"kafka://{config.kafka}",
        store="memory://",
        datadir=str(datadir),
        autodiscover=False,
        web_enabled=False,
        topic_partitions=config.partitions,
        topic_replication_factor=1,
        consumer_auto_offset_reset="earliest",
        processing_guarantee=config.guarantee,
        broker_commit_interval=1.0,
        # Table changelogs carry thousands of small records per batch: big producer batches
        # (one round trip for hundreds of records instead of the default 16 KB's dozen)
        producer_max_batch_size=900_000,
        # Records go out zstd-compressed; the agents check each one against the broker's
        # limit (``limits.oversize``), aiokafka only the uncompressed size against this.
        producer_max_request_size=MAX_REQUEST_BYTES,
        producer_compression_type=COMPRESSION,
        producer_linger=0.005,
        broker_session_timeout=config.session_timeout,
        broker_heartbeat_interval=min(3.0, config.session_timeout / 3),
        **app_options,
    )
    # The story agent writes thousands of table keys per batch; Faust's default buffer of
    # 100 pending changelog records would make it wait for every hundred.
    widen_producer_buffer(app, 50_000)
    pipeline = Pipeline(config, app)
    for key, spec in TOPICS.items():
        pipeline.topics[key] = app.topic(
            config.topic_name(key),
            key_type=str,
            key_serializer="raw",
            value_serializer=ModelCodec(spec.record),
            partitions=config.partitions_of(key),
            replicas=1,
        )
    return pipeline
