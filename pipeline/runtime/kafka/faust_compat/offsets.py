"""Fixes to faust-streaming 0.15's offset handling, so that no message is ever skipped.

When a rebalance or the end of table recovery suspends the flow, faust drops the messages
it is handing to streams, marks them read, and relies on seeking every partition to its
committed offset to read them again. Around that, four things lose messages for good:

* aiokafka's ``seek_to_committed`` seeks only to committed offsets above 0, so a
  partition with nothing committed yet (a worker killed before its first commit) keeps
  its position past the dropped messages. We seek it to its first offset.
* faust's commit check for a gap at the head of the acknowledged offsets runs only once a
  non-zero offset was committed, and misses a gap of one message, so later messages'
  acknowledgements committed past the dropped ones. We never commit past an offset that
  was not acknowledged, starting from the partition's first offset if none was committed.
* faust counts a jump in the offsets it reads as a gap of absent records (compacted or
  transactional topics) and so as acknowledged. newswire's topics are neither: a jump
  means records were skipped (seen when aiokafka's position moved under faust's start-up
  seek), so we record no gaps.
* Other paths drop a message in flight (seen at a fresh worker's first batches, with no
  rebalance). The commit check makes each visible: later offsets are acknowledged, the
  next one to commit never is. A partition held up like that for ``STALL_SECONDS`` is read
  again from that offset; the stages are idempotent, so what is read twice changes nothing.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer
from faust.transport.consumer import Consumer
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import TP

log = logging.getLogger(__name__)

# newswire's agents acknowledge each partition in order: acks past an unacknowledged offset
# mean it was dropped, not that it is still being worked on
STALL_SECONDS = 3.0
_applied = False
_rereads: set[asyncio.Task[None]] = set()  # seeks in flight, kept from the collector


async def seek_to_committed(consumer: AIOKafkaConsumer, skip: Any) -> dict[TP, int | None]:
    """Seek every assigned partition to its committed offset, or its first one if none.

    ``skip(tp)`` names partitions left alone (table changelogs, which recovery seeks).
    Returns the offset each partition now reads from, as aiokafka's method would.
    """
    committed: dict[TP, int | None] = dict(await consumer.seek_to_committed())
    unset = [tp for tp, offset in committed.items() if not offset and not skip(tp)]
    if unset:
        firsts = await consumer.beginning_offsets(unset)
        for tp in unset:
            consumer.seek(tp, firsts[tp])
            committed[tp] = firsts[tp]
    return committed


def held_at(consumer: Consumer, tp: TP) -> int | None:
    """The next offset to commit on ``tp`` if it was skipped while later ones were acked."""
    acked = consumer._acked[tp]
    if not acked or consumer._gap[tp]:
        return None  # gaps recorded before ``apply`` are faust's own bookkeeping
    start = consumer._committed_offset[tp]
    if start is None:
        start = getattr(consumer, "_newswire_starts", {}).get(tp)
    return start if start is not None and min(acked) > start else None


def reread_if_stalled(consumer: Consumer, tp: TP, now: float) -> bool:
    """True if ``tp`` is held at an unacknowledged offset; once it has been held for
    ``STALL_SECONDS``, the partition is read again from that offset."""
    stalls: dict[TP, float] = consumer.__dict__.setdefault("_newswire_stalls", {})
    offset = held_at(consumer, tp)
    if offset is None:
        stalls.pop(tp, None)
        return False
    since = stalls.setdefault(tp, now)
    if now - since >= STALL_SECONDS:
        stalls[tp] = now  # at most one seek per period
        log.warning("offset %d of %s was never processed (dropped in flight): reading %s "
                    "again from it", offset, tp, tp)
        task = asyncio.ensure_future(_seek(consumer, tp, offset))
        _rereads.add(task)
        task.add_done_callback(_rereads.discard)
    return True


async def _seek(consumer: Consumer, tp: TP, offset: int) -> None:
    """Seek in the consumer's own thread (faust's ``seek`` calls aiokafka from this one)."""
    thread: Any = consumer._thread  # type: ignore[attr-defined]

    async def seek_in_thread() -> None:
        thread._ensure_consumer().seek(tp, offset)

    try:
        await thread.call_thread(seek_in_thread)
        consumer._read_offset[tp] = offset if offset else None  # as faust's seek does
    except Exception:  # revoked meanwhile: its next owner reads from the committed offset
        log.exception("could not read %s again from %d", tp, offset)


def apply() -> None:
    """Install the fixes into faust (once; the classes are shared by every app)."""
    global _applied
    if _applied:
        return
    _applied = True
    original_new_offset = Consumer._new_offset

    async def thread_seek_to_committed(self: AIOKafkaConsumerThread) -> Mapping[TP, int]:
        consumer = self.consumer
        offsets = await self.call_thread(seek_to_committed, self._ensure_consumer(),
                                         consumer._is_changelog_tp)
        # where each partition reads from now: the commit check's start where none was committed
        consumer._newswire_starts = {  # type: ignore[attr-defined]
            tp: offset for tp, offset in offsets.items()
            if offset is not None and not consumer._is_changelog_tp(tp)}
        return offsets

    def new_offset(self: Consumer, tp: TP) -> int | None:
        if reread_if_stalled(self, tp, time.monotonic()):
            return None  # committing would skip the held offset
        return original_new_offset(self, tp)

    async def no_gap(self: Consumer, tp: TP, offset_from: int, offset_to: int) -> None:
        return None

    AIOKafkaConsumerThread.seek_to_committed = thread_seek_to_committed  # type: ignore[method-assign]
    Consumer._new_offset = new_offset  # type: ignore[method-assign]
    Consumer._add_gap = no_gap  # type: ignore[method-assign]
