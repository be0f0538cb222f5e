"""The embedded runtime's heap settling: what survives a batch is frozen out of the garbage
collector's walks, cyclic garbage among it is collected at the next review, and closing
the runtime thaws the heap."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.runtime.heap import HEAP_REVIEW, settle_heap
from tests.unit.runtime.test_embedded import runtime, seed_raws


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_frozen_cyclic_garbage_is_collected_at_the_review() -> None:
    node = Node()
    alive = weakref.ref(node)
    settle_heap(1)
    assert gc.get_freeze_count() > 0
    del node
    gc.collect()
    assert alive() is not None  # frozen: no collection walks it
    settle_heap(HEAP_REVIEW)
    assert alive() is None


async def test_the_runtime_freezes_after_a_batch_and_thaws_on_close(
        seeds: dict[str, str], tmp_path: Path) -> None:
    gc.unfreeze()
    rt = runtime(tmp_path)
    try:
        stats = await rt.process(seed_raws(seeds))
        assert stats.processed == len(seeds)
        assert gc.get_freeze_count() > 0
    finally:
        await rt.close()
    assert gc.get_freeze_count() == 0
