"""The fixes to faust's offset handling: where a partition is read from after a seek, and
that a commit never jumps over an offset no stream acknowledged."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

import pytest
from faust.transport.consumer import Consumer
from faust.types import TP

from pipeline.runtime.kafka.faust_compat import offsets

RAW0, RAW1, RAW2, CHANGELOG = (TP("raw", 0), TP("raw", 1), TP("raw", 2),
                               TP("app-stories-changelog", 0))


class FakeKafkaConsumer:
    """aiokafka's consumer as ``seek_to_committed`` uses it: it seeks only offsets above 0."""

    def __init__(self, committed: dict[TP, int | None], firsts: dict[TP, int]) -> None:
        self.committed, self.firsts = committed, firsts
        self.seeks: dict[TP, int] = {}

    async def seek_to_committed(self) -> dict[TP, int | None]:
        self.seeks.update({tp: o for tp, o in self.committed.items() if o and o > 0})
        return dict(self.committed)

    async def beginning_offsets(self, tps: list[TP]) -> dict[TP, int]:
        return {tp: self.firsts[tp] for tp in tps}

    def seek(self, tp: TP, offset: int) -> None:
        self.seeks[tp] = offset


def test_partitions_with_nothing_committed_are_read_from_their_first_offset() -> None:
    kafka = FakeKafkaConsumer({RAW0: None, RAW1: 0, RAW2: 57, CHANGELOG: None},
                              firsts={RAW0: 3, RAW1: 0, CHANGELOG: 0})
    got = asyncio.run(offsets.seek_to_committed(kafka,  # type: ignore[arg-type]
                                                lambda tp: tp == CHANGELOG))
    assert kafka.seeks == {RAW0: 3, RAW1: 0, RAW2: 57}  # recovery seeks changelogs itself
    assert got == {RAW0: 3, RAW1: 0, RAW2: 57, CHANGELOG: None}


def consumer(acked: list[int], committed: int | None, start: int | None = None) -> Any:
    """Just the bookkeeping faust's ``Consumer._new_offset`` reads."""
    return SimpleNamespace(
        _acked=defaultdict(list, {RAW0: list(acked)}),
        _acked_index=defaultdict(set, {RAW0: set(acked)}),
        _gap=defaultdict(lambda: None),
        _committed_offset=defaultdict(lambda: None, {RAW0: committed}),
        _newswire_starts={} if start is None else {RAW0: start})


@pytest.mark.parametrize(("acked", "committed", "start", "expected"), [
    ([0, 1, 2], None, 0, 3),       # nothing committed, acknowledged from the first: commit
    ([1, 2], None, 0, None),       # offset 0 dropped at a rebalance: faust committed 3
    ([11, 12], 10, None, None),    # a gap of one after a commit: faust committed 13
    ([10, 11, 13], 10, None, 12),  # a later gap: up to it, as faust does
    ([5, 6], None, None, 7),       # no start known (not seeked by us): faust's own rule
])
def test_a_commit_never_jumps_over_an_unacknowledged_offset(
        acked: list[int], committed: int | None, start: int | None,
        expected: int | None) -> None:
    offsets.apply()
    assert Consumer._new_offset(consumer(acked, committed, start), RAW0) == expected


def test_apply_is_idempotent() -> None:
    offsets.apply()
    patched = Consumer._new_offset
    offsets.apply()
    assert Consumer._new_offset is patched


def test_a_partition_held_up_by_a_dropped_offset_is_read_again_from_it() -> None:
    held = consumer([172, 173], committed=171)
    seeks: list[tuple[TP, int]] = []

    async def call_thread(fun: Any) -> None:  # faust's consumer thread, run in place
        await fun()
    kafka = SimpleNamespace(seek=lambda tp, offset: seeks.append((tp, offset)))
    held._thread = SimpleNamespace(call_thread=call_thread, _ensure_consumer=lambda: kafka)
    held._read_offset = {RAW0: 173}

    async def run() -> None:
        offsets.reread_if_stalled(held, RAW0, now=100.0)
        offsets.reread_if_stalled(held, RAW0, now=100.0 + offsets.STALL_SECONDS / 2)
        await asyncio.sleep(0)
        assert seeks == []  # a batch may still be on its way
        offsets.reread_if_stalled(held, RAW0, now=100.0 + offsets.STALL_SECONDS)
        await asyncio.sleep(0)
        assert seeks == [(RAW0, 171)] and held._read_offset[RAW0] == 171
        held._acked[RAW0] = [171, 172, 173]  # read again: no longer held
        offsets.reread_if_stalled(held, RAW0, now=200.0)
        await asyncio.sleep(0)
        assert seeks == [(RAW0, 171)] and not held._newswire_stalls

    asyncio.run(run())


def test_a_jump_in_offsets_is_not_counted_as_acknowledged() -> None:
    """faust would record 5..9 as a gap (absent records) and commit past them; on
    newswire's topics (not compacted, not transactional) they were skipped, not absent."""
    offsets.apply()
    jumped = consumer([4, 10], committed=4)
    asyncio.run(Consumer._add_gap(jumped, RAW0, 5, 9))
    assert not jumped._gap[RAW0]
    assert Consumer._new_offset(jumped, RAW0) == 5  # up to the skipped records, not past
