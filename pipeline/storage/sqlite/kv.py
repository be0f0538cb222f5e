"""A MutableMapping over one namespace of the SQLite ``kv`` table.

Stages keep their state in mappings (cluster state, fired-alert keys). The embedded runtime
is the only writer, so reads come from memory; writes are buffered and flushed into the
open transaction by ``flush()`` just before it commits, so state commits (or rolls back)
together with the articles that caused it, and a key written many times in a batch is
written once.

Packed keys (``packed``: key prefixes; the clusterer's document frequencies and posting
lists, ~70 small values changed per article) are not a row each: the ones a batch changed
are written as one ``log:<seq>`` row of the ``<ns>#packed`` namespace, and every
``COMPACT_AFTER`` batches all of them are rewritten as ``base:<n>`` rows of ``BASE_CHUNK``
keys (the logs dropped). Loading applies the base, then the logs in order, over the
namespace's own rows, where earlier versions kept such keys one a row (those rows go at the
first compaction). A batch of 200 text articles then writes one row where it wrote ~14,000.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator, MutableMapping
from typing import Any

import orjson

_DELETED = object()
COMPACT_AFTER = 16  # log rows of packed keys before they are folded into base rows
BASE_CHUNK = 4096  # packed keys per base row


def _loads(value: str) -> Any:
    try:
        return orjson.loads(value)
    except orjson.JSONDecodeError:  # NaN / Infinity, as json.dumps once wrote them
        return json.loads(value)


def _dumps(value: Any) -> str:
    """Compact JSON (orjson: ~5x faster than json; the same values read back)."""
    if type(value) is int:
        return str(value)
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:  # what orjson refuses (integers past 64 bits): as json writes it
        return json.dumps(value, separators=(",", ":"))


class SqliteMapping(MutableMapping[str, Any]):
    """The namespace in memory, changes buffered for ``flush``; what was written since
    ``savepoint`` (or the last flush) can be ``rollback``-ed: the embedded runtime's
    per-article savepoint, so a dead-lettered article leaves no half of its story assignment
    behind. Values are kept as given: the undo is of writes, not of changes made inside a
    value in place."""

    def __init__(self, conn: sqlite3.Connection, ns: str, packed: tuple[str, ...] = ()) -> None:
        self.conn = conn
        self.ns = ns
        self.packed = packed
        self._dirty: dict[str, Any] = {}
        self._before: dict[str, Any] = {}  # key -> value at the savepoint (or _DELETED)
        self._cache: dict[str, Any] = {
            key: _loads(value)
            for key, value in conn.execute("SELECT key, value FROM kv WHERE ns=?", (ns,))
        }
        self._logs = 0  # log rows of packed keys since the last base
        for key, value in conn.execute("SELECT key, value FROM kv WHERE ns=? ORDER BY key",
                                       (self._packed_ns,)):  # base:… sorts before log:…
            if key.startswith("log:"):
                self._logs = max(self._logs, int(key[4:]) + 1)
            change = _loads(value)
            self._cache.update(change["set"])
            for gone in change.get("del", ()):
                self._cache.pop(gone, None)

    @property
    def _packed_ns(self) -> str:
        return self.ns + "#packed"

    def __getitem__(self, key: str) -> Any:
        return self._cache[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._cache.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        cache = self._cache
        if key not in self._before:
            self._before[key] = cache.get(key, _DELETED)
        cache[key] = value
        self._dirty[key] = value

    def update(self, other: Any = (), /, **kwds: Any) -> None:
        """Many writes at once (the clusterer's document frequencies)."""
        values = other if type(other) is dict and not kwds else dict(other, **kwds)
        before, get = self._before, self._cache.get
        for key in values:
            if key not in before:
                before[key] = get(key, _DELETED)
        self._cache.update(values)
        self._dirty.update(values)

    def __delitem__(self, key: str) -> None:
        value = self._cache.pop(key)
        if key not in self._before:
            self._before[key] = value
        self._dirty[key] = _DELETED

    def __contains__(self, key: object) -> bool:
        return key in self._cache

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cache))

    def __len__(self) -> int:
        return len(self._cache)

    def savepoint(self) -> None:
        self._before.clear()

    def rollback(self) -> None:
        """Put back every key written since ``savepoint``."""
        for key, value in self._before.items():
            if value is _DELETED:
                self._cache.pop(key, None)
            else:
                self._cache[key] = value
            self._dirty[key] = value
        self._before.clear()

    def flush(self) -> None:
        """Write buffered changes into the current transaction."""
        dirty, ns, dumps = self._dirty, self.ns, _dumps
        if self.packed:
            prefixes, dirty, sets, dels = self.packed, {}, {}, []
            for k, v in self._dirty.items():
                if not k.startswith(prefixes):
                    dirty[k] = v
                elif v is _DELETED:
                    dels.append(k)
                else:
                    sets[k] = v
            if sets or dels:
                self._write_packed(sets, dels)
        puts = [(ns, k, str(v) if type(v) is int else dumps(v))  # ints: inline
                for k, v in dirty.items() if v is not _DELETED]
        gone = [(ns, k) for k, v in dirty.items() if v is _DELETED]
        puts.sort()  # in key order: each B-tree page is visited once, not once per key
        self.conn.executemany("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?,?,?)", puts)
        self.conn.executemany("DELETE FROM kv WHERE ns=? AND key=?", gone)
        self._dirty.clear()
        self._before.clear()  # committed: nothing before this is undone

    def _write_packed(self, sets: dict[str, Any], dels: list[str]) -> None:
        """One log row (``{"set": {key: value}, "del": [key]}``) for the packed keys a batch
        changed, or all of them rewritten."""
        if self._logs >= COMPACT_AFTER:
            self._compact()
            return
        self.conn.execute("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?,?,?)",
                          (self._packed_ns, f"log:{self._logs:08d}",
                           _dumps({"set": sets, "del": dels})))
        self._logs += 1

    def _compact(self) -> None:
        """Every packed key as base rows; the logs and one-a-row keys of old files go."""
        self.conn.execute("DELETE FROM kv WHERE ns=?", (self._packed_ns,))
        for prefix in self.packed:
            end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
            self.conn.execute("DELETE FROM kv WHERE ns=? AND key>=? AND key<?",
                              (self.ns, prefix, end))
        packed = ((k, v) for k, v in self._cache.items() if k.startswith(self.packed))
        for n in itertools.count():  # a chunk at a time: no second copy of them all
            chunk = dict(itertools.islice(packed, BASE_CHUNK))
            if not chunk:
                break
            self.conn.execute("INSERT INTO kv (ns, key, value) VALUES (?,?,?)",
                              (self._packed_ns, f"base:{n:08d}", _dumps({"set": chunk})))
        self._logs = 0

    def reload(self) -> None:
        """Forget unflushed changes and read the committed state again (after a rollback)."""
        self.__init__(self.conn, self.ns, self.packed)  # type: ignore[misc]
