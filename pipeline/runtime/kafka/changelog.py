"""Faust table writes in bulk: the story agent's state reaches its changelog once per batch.

A Faust table sends one changelog record per write through Faust's producer buffer, one
message at a time; at thousands of state keys per batch that path, not the stages, set the
pace (and stalled commits for seconds). ``BulkTable`` writes the table's local store
directly and queues the changelog records; ``ChangelogWriter.flush`` sends them as large
Kafka record batches, in write order, on one idempotent producer, and returns once Kafka
has them all. The records are serialised by the table's own changelog topic, so Faust's
recovery on start-up reads them back exactly as if the table had sent them. What this
relies on in faust (the table's local store, its changelog encoding) is in
``faust_compat.tables``.

    local_store(table)[key] = value   (what a Faust table does, minus the per-key send)
    ChangelogWriter.flush()   ─▶ <app id>-<table>-changelog, partition 0, in order
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, MutableMapping
from itertools import repeat
from typing import Any

from aiokafka import AIOKafkaProducer

from pipeline.runtime.kafka.faust_compat import tables

logger = logging.getLogger(__name__)
MAX_BATCH_BYTES = 900_000


class ChangelogWriter:
    """Queued changelog records of single-partition tables, sent together on ``flush``."""

    def __init__(self, kafka: str) -> None:
        self.kafka = kafka
        self.queued: list[tuple[str, bytes | None, bytes | None]] = []
        self._producer: AIOKafkaProducer | None = None

    def table(self, table: Any) -> BulkTable:
        return BulkTable(table, self)

    async def flush(self) -> int:
        """Send what is queued; returns once every record is acknowledged (acks=all)."""
        if not self.queued:
            return 0
        producer = await self._started()
        queued, self.queued = self.queued, []
        futures, batch, topic = [], producer.create_batch(), queued[0][0]
        for name, key, value in queued:
            if name != topic or batch.append(key=key, value=value, timestamp=None) is None:
                futures.append(await self._send(producer, batch, topic))
                batch, topic = producer.create_batch(), name
                if batch.append(key=key, value=value, timestamp=None) is None:
                    raise ValueError(f"changelog record of {len(value or b'')} bytes is too "
                                     f"large for {name}")
        futures.append(await self._send(producer, batch, topic))
        for future in futures:
            await future
        return len(queued)

    @staticmethod
    async def _send(producer: AIOKafkaProducer, batch: Any, topic: str) -> Any:
        batch.close()
        return await producer.send_batch(batch, topic, partition=0)

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = AIOKafkaProducer(bootstrap_servers=self.kafka, acks="all",
                                        enable_idempotence=True, linger_ms=0,
                                        max_batch_size=MAX_BATCH_BYTES,
                                        max_request_size=1_000_000)
            await producer.start()
            self._producer = producer
        return self._producer

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None


class BulkTable(MutableMapping[str, Any]):
    """A single-partition Faust table whose writes are queued on a ``ChangelogWriter``.

    Keys and values are encoded as the table's JSON changelog encodes them, but by orjson
    directly (``tables.json_encoders``); ``set_many`` writes a batch's keys in one pass."""

    def __init__(self, table: Any, writer: ChangelogWriter) -> None:
        self.table, self.writer = table, writer
        self.topic_name = tables.changelog_name(table)
        self.encode_key, self.encode_value = tables.json_encoders(table)
        self._plain: dict[Any, Any] | None = None

    @property
    def _store(self) -> MutableMapping[Any, Any]:
        if self._plain is not None:
            return self._plain
        # faust creates the store lazily, at first use; the memory store's dict stays
        self._plain = tables.plain_store(self.table)
        return self._plain if self._plain is not None else tables.local_store(self.table)

    def set_many(self, values: dict[str, Any], deleted: Iterable[str] = (),
                 encoded: tuple[list[bytes], list[bytes]] | None = None) -> None:
        """``table[key] = value`` for each of ``values``, then ``del table[key]`` for each
        of ``deleted`` that is present: one changelog record per key, in that order.
        ``encoded``: the keys and values, in order, as ``encode_many`` made them already."""
        store, topic, queued = self._store, self.topic_name, self.writer.queued
        store.update(values)
        raw_keys, raw_values = encoded or self.encode_many(values)
        queued.extend(zip(repeat(topic), raw_keys, raw_values, strict=False))
        gone = [key for key in deleted if key in store]
        for key in gone:
            del store[key]
        queued.extend(zip(repeat(topic), map(self.encode_key, gone), repeat(None),
                          strict=False))

    def encode_many(self, values: dict[str, Any]) -> tuple[list[bytes], list[bytes]]:
        """The changelog records' keys and values, as the table's own send encodes them."""
        return list(map(self.encode_key, values)), list(map(self.encode_value, values.values()))

    def put_encoded(self, key: str, value: Any, raw: bytes) -> None:
        """``table[key] = value`` whose changelog value ``raw`` is encoded already."""
        self._store[key] = value
        self.writer.queued.append((self.topic_name, self.encode_key(key), raw))

    def __getitem__(self, key: str) -> Any:
        return self._store[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._store.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._store[key] = value
        self.writer.queued.append((self.topic_name, self.encode_key(key),
                                   self.encode_value(value)))

    def __delitem__(self, key: str) -> None:
        del self._store[key]
        self.writer.queued.append((self.topic_name, self.encode_key(key), None))

    def __contains__(self, key: object) -> bool:
        return key in self._store

    def __iter__(self) -> Iterator[str]:
        return iter(self._store.keys())

    def __len__(self) -> int:
        return len(self._store)
