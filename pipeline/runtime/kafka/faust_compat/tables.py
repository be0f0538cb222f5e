"""A Faust table's internals, as the bulk changelog writes and the story agent use them.

``runtime.kafka.changelog`` writes a table's local store and sends the changelog records on
its own aiokafka producer (public API). That relies on faust's recovery reading a changelog
topic's records whoever produced them, when they are encoded as ``encode_key`` and
``encode_value`` encode them (as the table's own ``send_changelog`` would).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from functools import partial
from typing import Any, cast

import faust
import orjson
from faust.stores.memory import Store as MemoryStore
from faust.types import TP
from faust.utils.json import on_default

Encode = Callable[[Any], bytes]
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z


def local_store(table: Any) -> MutableMapping[Any, Any]:
    """The table's local store: writing it changes the table but sends nothing.

    Relies on faust's ``Table.__setitem__`` being ``data[key] = value`` followed by
    ``on_key_set`` (one changelog record per key, through the app producer's buffer)."""
    return cast("MutableMapping[Any, Any]", table.data)


def plain_store(table: Any) -> dict[Any, Any] | None:
    """The memory store's own dict (``local_store`` minus a Python-level ``__setitem__`` per
    key), or None for another store. Relies on faust's memory ``Store.data`` being a dict."""
    store = local_store(table)
    data = getattr(store, "data", None)
    return data if isinstance(store, MemoryStore) and type(data) is dict else None


def json_encoders(table: Any) -> tuple[Encode, Encode]:
    """Key and value encoders making the bytes ``encode_key`` / ``encode_value`` make, minus
    faust's serializer registry per call: its ``json`` codec is ``orjson.dumps`` with these
    options (faust.utils.json.dumps). Checked against faust's own encoding on a sample;
    ``ValueError`` for a table whose changelog is not plain JSON."""
    topic = table.changelog_topic
    if (topic.key_serializer, topic.value_serializer) != ("json", "json"):
        raise ValueError(f"table {table.name}: changelog serializers are "
                         f"{topic.key_serializer}/{topic.value_serializer}, not json")

    encode: Encode = partial(orjson.dumps, default=on_default, option=_JSON_OPTIONS)
    sample = {"k": [1, 2.5, None, "é"], "n": {"1": True}}
    if (encode("key:é"), encode(sample)) != (encode_key(table, "key:é"),
                                             encode_value(table, sample)):
        raise ValueError(f"table {table.name}: faust's changelog encoding is not orjson's")
    return encode, encode


def changelog_name(table: Any) -> str:
    """The table's changelog topic (``<app id>-<table>-changelog``)."""
    return cast(str, table.changelog_topic.get_topic_name())


def encode_key(table: Any, key: Any) -> bytes | None:
    """A changelog record's key as faust's table sends it (its recovery decodes it back)."""
    return cast("bytes | None", table.changelog_topic.prepare_key(key, table.key_serializer)[0])


def encode_value(table: Any, value: Any) -> bytes | None:
    """A changelog record's value as faust's table sends it; ``None`` is a deletion
    (faust's ``on_key_del`` sends a raw ``None``: a tombstone)."""
    if value is None:
        return None
    return cast("bytes | None",
                table.changelog_topic.prepare_value(value, table.value_serializer)[0])


def holds_table(app: faust.App, tp: TP) -> bool:
    """This worker holds the table partition ``tp`` now: assigned, recovered, not rebalancing.

    Relies on faust's ``Recovery.in_recovery`` and ``Recovery.active_tps`` (the actively
    assigned changelog partitions) on ``app.tables.recovery``."""
    recovery = cast(Any, app.tables).recovery
    return not app.rebalancing and not recovery.in_recovery and tp in recovery.active_tps


def widen_producer_buffer(app: faust.App, max_messages: int) -> None:
    """Let ``max_messages`` changelog records wait in faust's producer buffer before a send
    waits for it to flush (faust's ``ProducerBuffer.max_messages``, 100 by default)."""
    cast(Any, app.producer).buffer.max_messages = max_messages
