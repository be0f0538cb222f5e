"""Table views that make the story agent's state crash-safe under at-least-once delivery.

A Faust table writes one changelog record per key, so a crash can leave half of one
event's writes durable. ``JournaledState`` holds an event's writes and commits them as
one journal record *followed by* the individual keys, all in the same single-partition
changelog; Kafka keeps a partition's order, so whatever survives a crash is a prefix, and
re-applying the last journal record on start-up completes a half-written event.

``PendingWrites`` holds writes until ``commit`` (called once downstream accepted the
event's output), for alert keys: an alert is never marked sent before Kafka has it.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import Any

JOURNAL = "__journal__"


class PendingWrites(MutableMapping[str, Any]):
    """A table seen through writes held back until ``commit``."""

    def __init__(self, table: MutableMapping[str, Any]) -> None:
        self.table = table
        self.pending: dict[str, Any] = {}
        self.deleted: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        if key in self.deleted:
            raise KeyError(key)
        return self.pending[key] if key in self.pending else self.table[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.deleted.discard(key)
        self.pending[key] = value

    def __delitem__(self, key: str) -> None:
        if key not in self:
            raise KeyError(key)
        self.pending.pop(key, None)
        self.deleted.add(key)

    def __contains__(self, key: object) -> bool:
        if key in self.deleted:
            return False
        return key in self.pending or key in self.table

    def __iter__(self) -> Iterator[str]:
        keys = {*self.table, *self.pending} - self.deleted - {JOURNAL}
        return iter(keys)

    def __len__(self) -> int:
        return len(set(self))

    def discard(self) -> None:
        self.pending.clear()
        self.deleted.clear()

    def commit(self) -> None:
        _apply(self.table, self.pending, self.deleted)
        self.discard()


class JournaledState(PendingWrites):
    """One event's writes reach the table atomically (journal record first)."""

    def commit(self) -> None:
        if self.pending or self.deleted:
            self.table[JOURNAL] = {"set": dict(self.pending), "del": sorted(self.deleted)}
        super().commit()

    def recover(self) -> None:
        """Complete the last event's writes if a crash cut them short (idempotent)."""
        journal = self.table.get(JOURNAL)
        if journal:
            _apply(self.table, journal["set"], set(journal["del"]))


def _apply(table: MutableMapping[str, Any], values: dict[str, Any], deleted: set[str]) -> None:
    for key, value in values.items():
        table[key] = value
    for key in deleted:
        if key in table:
            del table[key]
