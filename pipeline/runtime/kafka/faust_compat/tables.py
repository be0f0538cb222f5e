"""A Faust table's internals, as the bulk changelog writes and the story agent use them.

``runtime.kafka.changelog`` writes a table's local store and sends the changelog records on
its own aiokafka producer (public API). That relies on faust's recovery reading a changelog
topic's records whoever produced them, when they are encoded as ``encode_key`` and
``encode_value`` encode them (as the table's own ``send_changelog`` would).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, cast

import faust
from faust.types import TP


def local_store(table: Any) -> MutableMapping[Any, Any]:
    """The table's local store: writing it changes the table but sends nothing.

    Relies on faust's ``Table.__setitem__`` being ``data[key] = value`` followed by
    ``on_key_set`` (one changelog record per key, through the app producer's buffer)."""
    return cast("MutableMapping[Any, Any]", table.data)


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
