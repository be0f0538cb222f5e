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
from bisect import bisect_right
from collections.abc import Iterator, MutableMapping
from functools import partial
from itertools import accumulate
from typing import Any

import orjson

logger = logging.getLogger(__name__)
JOURNAL = "__journal__"
CHUNK_BYTES = 400_000  # a journal piece (JSON): well below the 1 MB record limit
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

    def get(self, key: str, default: Any = None) -> Any:  # no KeyError for a missing key
        value = self.pending.get(key, _ABSENT)
        if value is not _ABSENT:
            return value
        if key in self.deleted:
            return default
        return self.table.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._remember(key)
        self.deleted.discard(key)
        self.pending[key] = value

    def update(self, values: Any = (), /, **more: Any) -> None:
        """Many writes at once (the clusterer's document frequencies): as ``__setitem__``."""
        values = dict(values, **more)
        undo, pending, deleted = self._undo, self.pending, self.deleted
        if undo is not None:
            get = pending.get
            undo.update({key: (get(key, _ABSENT), key in deleted)
                         for key in values.keys() - undo.keys()})
        if deleted:
            deleted.difference_update(values)
        pending.update(values)

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
    """A batch's writes reach the table atomically (journal records first).

    Each key and value is encoded once (by the table's ``encode_many``, a ``BulkTable``'s
    changelog encoding): the journal pieces are those encodings joined, and the key
    records reuse them. A piece's value is ``{"set": {key: value}, "del": [key]}`` (JSON),
    up to ``CHUNK_BYTES``; a journal written as text cut in pieces (before) still recovers.
    """

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        super().__init__(table)
        self.seq = 0

    def commit(self) -> None:
        if not (self.pending or self.deleted):
            return
        pending, deleted = self.pending, sorted(self.deleted)
        encoded = getattr(self.table, "encode_many", _encode_many)(pending)
        previous = self.table.get(JOURNAL)
        self.seq = max(self.seq, previous["seq"] if previous else 0) + 1
        pieces = _pieces(encoded[0], encoded[1], deleted)
        put = getattr(self.table, "put_encoded", None)
        for i, raw in enumerate(pieces):
            value = orjson.loads(raw)  # a copy: the values written may change in place later
            name = f"{JOURNAL}:{self.seq}:{i}"
            if put is not None:
                put(name, value, raw)
            else:
                self.table[name] = value
        self.table[JOURNAL] = {"seq": self.seq, "chunks": len(pieces)}
        _apply(self.table, pending, self.deleted, encoded)
        self.discard()
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
        objects = [p for p in pieces if isinstance(p, dict)]
        if len(objects) == len(pieces):
            values: dict[str, Any] = {}
            deleted: set[str] = set()
            for piece in objects:
                values.update(piece["set"])
                deleted.update(piece["del"])
        else:  # the journal as text, cut in pieces (written before pieces were objects)
            journal = json.loads("".join(str(p) for p in pieces))
            values, deleted = journal["set"], set(journal["del"])
        logger.info("journal seq=%s re-applied: %d keys set, %d deleted (table holds %d)",
                    head["seq"], len(values), len(deleted), len(self.table))
        _apply(self.table, values, deleted)
        self.seq = head["seq"]


def _encode_many(values: dict[str, Any]) -> tuple[list[bytes], list[bytes]]:
    dumps = partial(orjson.dumps, option=orjson.OPT_NON_STR_KEYS)
    return list(map(dumps, values)), list(map(dumps, values.values()))


def _pieces(raw_keys: list[bytes], raw_values: list[bytes], deleted: list[str]) -> list[bytes]:
    """The journal's pieces (JSON), each below ``CHUNK_BYTES`` unless one value alone is
    larger; deletions go in the last piece."""
    parts = list(map(b":".join, zip(raw_keys, raw_values, strict=True)))
    ends = list(accumulate(len(part) + 1 for part in parts))  # +1: the separating comma
    cuts, start, base = [], 0, 0
    while start < len(parts):  # each piece: as many parts as fit, at least one
        end = max(start + 1, bisect_right(ends, base + CHUNK_BYTES, lo=start))
        cuts.append((start, end))
        start, base = end, ends[end - 1]
    cuts = cuts or [(0, 0)]
    last = len(cuts) - 1
    return [b'{"set":{' + b",".join(parts[a:b]) + b'},"del":'
            + orjson.dumps(deleted if i == last else []) + b"}"
            for i, (a, b) in enumerate(cuts)]


def _apply(table: MutableMapping[str, Any], values: dict[str, Any], deleted: set[str],
           encoded: tuple[list[bytes], list[bytes]] | None = None) -> None:
    set_many = getattr(table, "set_many", None)
    if set_many is not None:  # a ``changelog.BulkTable``: the same writes in one pass
        set_many(values, deleted, encoded)
        return
    for key, value in values.items():
        table[key] = value
    for key in deleted:
        if key in table:
            del table[key]
