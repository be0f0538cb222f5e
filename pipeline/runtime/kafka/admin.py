"""Where the stream runs (``stream_config`` from the settings) and its topics on the broker."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from pipeline.config.settings import Settings
from pipeline.runtime.kafka.topics import TOPICS, Guarantee, Role, StreamConfig


def stream_config(settings: Settings, *, partitions: int | None = None,
                  guarantee: Guarantee = "at_least_once", role: Role = "all") -> StreamConfig:
    return StreamConfig(kafka=settings.kafka, prefix=settings.topic_prefix,
                        partitions=partitions or settings.kafka_partitions, guarantee=guarantee,
                        datadir=settings.data_dir / "faust" / settings.topic_prefix,
                        group="stateless" if role == "stateless" else "worker")


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
