"""Elasticsearch came back empty: write the enriched topic to it again.

    sink finds an index or alias missing ──▶ templates + aliases installed again (the sink)
    the index agent sees it (``ElasticsearchSink.take_lost``) ──▶ ``reindex_enriched``:
        <prefix>.enriched from its first retained offset up to its end now ──▶ sink.write

Articles, story snapshots and merge tombstones are written exactly as the index agent
writes them and the sink is idempotent (document id = article id, story snapshots at their
revision with ``external_gte``), so a replay over what survived changes nothing and the
newest story snapshot wins. What Kafka no longer retains (``retention.ms``, 7 days by
default) cannot come back this way. The alert log is not replayed: alerts already sent are
not sent again (the alerts topic is not re-read).
"""

from __future__ import annotations

import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from pipeline.runtime.kafka.topics import EnrichedEvent, StreamConfig
from pipeline.storage.elasticsearch.sink import ElasticsearchSink

logger = logging.getLogger(__name__)


async def reindex_enriched(config: StreamConfig, sink: ElasticsearchSink,
                           batch: int = 500) -> int:
    """Write every retained enriched event (up to the topic's end when called) through
    ``sink``; returns how many were written. Refused documents are only logged here: the
    index agent dead-letters each when it reads it in the stream."""
    topic = config.topic_name("enriched")
    consumer = AIOKafkaConsumer(bootstrap_servers=config.kafka, enable_auto_commit=False,
                                client_id=f"{config.prefix}-reindex")
    began, written = time.monotonic(), 0
    await consumer.start()
    try:
        await consumer.topics()  # the cluster's metadata: the topic's partitions
        parts = [TopicPartition(topic, p) for p in sorted(
            consumer.partitions_for_topic(topic) or range(config.partitions_of("enriched")))]
        consumer.assign(parts)
        await consumer.seek_to_beginning(*parts)
        ends = await consumer.end_offsets(parts)
        starts = {tp: await consumer.position(tp) for tp in parts}
        todo = {tp for tp in parts if ends[tp] > starts[tp]}
        logger.warning("elasticsearch came back empty: re-indexing %s from Kafka "
                       "(%d events retained)", topic, sum(ends[tp] - starts[tp] for tp in todo))
        while todo:
            fetched = await consumer.getmany(*todo, timeout_ms=1000, max_records=batch)
            events: list[EnrichedEvent] = []
            for tp, records in fetched.items():
                for record in records:
                    if record.offset >= ends[tp]:
                        continue
                    try:
                        events.append(EnrichedEvent.model_validate_json(record.value or b""))
                    except ValidationError:
                        continue  # dead-lettered by the index agent when it read it
            for tp in list(todo):
                if await consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
            if not events:
                continue
            merged = {old: (e.story.id, e.revision) for e in events
                      for old in e.merged_story_ids}
            rejected = await sink.write([e.article for e in events],
                                        [(e.story, e.revision) for e in events], merged)
            for r in rejected:
                logger.warning("re-index refused id=%s error=%s", r.id, r.error)
            written += len(events)
    finally:
        await consumer.stop()
    logger.warning("re-indexed %d events from %s in %.1fs", written, topic,
                   time.monotonic() - began)
    return written
