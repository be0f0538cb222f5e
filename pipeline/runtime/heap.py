"""Keeping the garbage collector off a large long-lived state.

A runtime holds its story state (hundreds of thousands of objects) for as long as it runs,
and every article allocates thousands of short-lived ones: each full collection walked the
whole state again (~0.4 ms of CPU per article on the text bench). After each committed
batch the runtime calls ``settle_heap``; ``gc.unfreeze()`` undoes it when it closes.
"""

from __future__ import annotations

import gc

HEAP_REVIEW = 50  # batches between collections of the whole heap


def settle_heap(batches: int) -> None:
    """After a committed batch: collect the young garbage, then freeze what survived (mostly the
    state caches: ~40 objects per article) so that later collections skip it. Without this
    every full collection walks all of the state again, ~0.4 ms of CPU per article on the
    text bench, most of it while pool results are unpickled. Every ``HEAP_REVIEW``-th batch
    thaws and collects everything (frozen objects that became cyclic garbage since), and
    ``close`` thaws the heap for good."""
    if batches % HEAP_REVIEW == 0:
        gc.unfreeze()
        gc.collect()
    else:
        gc.collect(1)
    gc.freeze()
