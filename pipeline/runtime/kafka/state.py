"""Table views that make the story agent's state crash-safe under at-least-once delivery.

A Faust table writes one changelog record per key, so a crash can leave half of a batch's
writes durable. ``JournaledState`` holds a whole batch's writes (a key written many times
is written once) and commits them as a journal *followed by* the individual keys, all in
the same single-partition changelog:

    __journal__:<seq>:0 … :k   the batch's writes, JSON cut in pieces below Kafka's limit
    __journal__                {"seq", "chunks"}: the batch is committed from here on
    key₁ … keyₙ                the batch's writes, one record per distinct key
    (tombstones for the previous batch's pieces)

Kafka keeps a partition's order, so whatever survives a crash is a prefix; re-applying
the last committed journal on start-up (``recover``) makes the batch's state whole, and a
batch cut short before its ``__journal__`` record left no key behind.

``PendingWrites`` holds writes until ``commit`` (called once downstream accepted the
batch's output), for alert keys: an alert is never marked sent before Kafka has it. Both
take a ``savepoint`` per event, so one poison article is rolled back alone.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import orjson

logger = logging.getLogger(__name__)
JOURNAL = "__journal__"
CHUNK_CHARS = 400_000  # well below the broker's and producer's 1 MB record limit
_ABSENT = object()


class PendingWrites(MutableMapping[str, Any]):
    """A table seen through writes held back until ``commit``."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self.table = table
        self.pending: dict[str, Any] = {}
        self.deleted: set[str] = set()
        self._undo: dict[str, tuple[Any, bool]] | None = None

    def __getitem__(self, key: str) -> Any:
        if key in self.deleted:
            raise KeyError(key)
        return self.pending[key] if key in self.pending else self.table[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._remember(key)
        self.deleted.discard(key)
        self.pending[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self._remember(key)
        self.pending.pop(key, None)
        self.deleted.add(key)

    def __contains__(self, key: object) -> bool:
        if key in self.deleted:
            return False
        return key in self.pending or key in self.table

    def __iter__(self) -> Iterator[str]:
        keys = {*self.table, *self.pending} - self.deleted
        return iter(k for k in keys if not k.startswith(JOURNAL))

    def __len__(self) -> int:
        return len(set(self))

    # -- one event inside a batch ----------------------------------------------------------
    def savepoint(self) -> None:
        """Start an event: ``rollback`` undoes what it writes from here on."""
        self._undo = {}

    def _remember(self, key: str) -> None:
        if self._undo is not None and key not in self._undo:
            self._undo[key] = (self.pending.get(key, _ABSENT), key in self.deleted)

    def rollback(self) -> None:
        """Undo the writes since the last ``savepoint`` (a failed event)."""
        for key, (value, was_deleted) in (self._undo or {}).items():
            if value is _ABSENT:
                self.pending.pop(key, None)
            else:
                self.pending[key] = value
            if was_deleted:
                self.deleted.add(key)
            else:
                self.deleted.discard(key)
        self._undo = {}

    # -- the batch ----------------------------------------------------------------------------
    def discard(self) -> None:
        self.pending.clear()
        self.deleted.clear()
        self._undo = None

    def commit(self) -> None:
        _apply(self.table, self.pending, self.deleted)
        self.discard()


class JournaledState(PendingWrites):
    """A batch's writes reach the table atomically (journal records first)."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        super().__init__(table)
        self.seq = 0

    def commit(self) -> None:
        if not (self.pending or self.deleted):
            return
        journal = orjson.dumps({"set": self.pending, "del": sorted(self.deleted)},
                              option=orjson.OPT_NON_STR_KEYS).decode()
        previous = self.table.get(JOURNAL)
        self.seq = max(self.seq, previous["seq"] if previous else 0) + 1
        pieces = [journal[i:i + CHUNK_CHARS] for i in range(0, len(journal), CHUNK_CHARS)]
        for i, piece in enumerate(pieces):
            self.table[f"{JOURNAL}:{self.seq}:{i}"] = piece
        self.table[JOURNAL] = {"seq": self.seq, "chunks": len(pieces)}
        super().commit()
        if previous:  # its batch is whole in the table now
            for i in range(previous["chunks"]):
                self.table.pop(f"{JOURNAL}:{previous['seq']}:{i}", None)

    def recover(self) -> None:
        """Complete the last batch's writes if a crash cut them short (idempotent)."""
        head = self.table.get(JOURNAL)
        if not head or "seq" not in head:
            return
        pieces = [self.table.get(f"{JOURNAL}:{head['seq']}:{i}") for i in range(head["chunks"])]
        if any(p is None for p in pieces):
            logger.error("journal incomplete seq=%s: state not re-applied", head["seq"])
            return
        journal = json.loads("".join(str(p) for p in pieces))
        logger.info("journal seq=%s re-applied: %d keys set, %d deleted (table holds %d)",
                    head["seq"], len(journal["set"]), len(journal["del"]), len(self.table))
        _apply(self.table, journal["set"], set(journal["del"]))
        self.seq = head["seq"]


def _apply(table: MutableMapping[str, Any], values: dict[str, Any], deleted: set[str]) -> None:
    for key, value in values.items():
        table[key] = value
    for key in deleted:
        if key in table:
            del table[key]
