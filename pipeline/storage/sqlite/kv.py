"""A MutableMapping over one namespace of the SQLite ``kv`` table.

Stages keep their state in mappings (cluster state, fired-alert keys). The embedded runtime
is the only writer, so reads come from memory; writes are buffered and flushed into the
open transaction by ``flush()`` just before it commits, so state commits (or rolls back)
together with the articles that caused it, and a key written many times in a batch is
written once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, MutableMapping
from typing import Any

import orjson

_DELETED = object()


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
    def __init__(self, conn: sqlite3.Connection, ns: str) -> None:
        self.conn = conn
        self.ns = ns
        self._dirty: dict[str, Any] = {}
        self._cache: dict[str, Any] = {
            key: _loads(value)
            for key, value in conn.execute("SELECT key, value FROM kv WHERE ns=?", (ns,))
        }

    def __getitem__(self, key: str) -> Any:
        return self._cache[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self._cache.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self._cache[key] = value
        self._dirty[key] = value

    def update(self, other: Any = (), /, **kwds: Any) -> None:
        values = dict(other, **kwds)
        self._cache.update(values)
        self._dirty.update(values)

    def __delitem__(self, key: str) -> None:
        del self._cache[key]
        self._dirty[key] = _DELETED

    def __contains__(self, key: object) -> bool:
        return key in self._cache

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cache))

    def __len__(self) -> int:
        return len(self._cache)

    def flush(self) -> None:
        """Write buffered changes into the current transaction."""
        puts = [(self.ns, k, _dumps(v)) for k, v in self._dirty.items() if v is not _DELETED]
        gone = [(self.ns, k) for k, v in self._dirty.items() if v is _DELETED]
        self.conn.executemany("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?,?,?)", puts)
        self.conn.executemany("DELETE FROM kv WHERE ns=? AND key=?", gone)
        self._dirty.clear()

    def reload(self) -> None:
        """Forget unflushed changes and read the committed state again (after a rollback)."""
        self.__init__(self.conn, self.ns)  # type: ignore[misc]
