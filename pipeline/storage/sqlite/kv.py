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

_DELETED = object()


class SqliteMapping(MutableMapping[str, Any]):
    def __init__(self, conn: sqlite3.Connection, ns: str) -> None:
        self.conn = conn
        self.ns = ns
        self._dirty: dict[str, Any] = {}
        self._cache: dict[str, Any] = {
            key: json.loads(value)
            for key, value in conn.execute("SELECT key, value FROM kv WHERE ns=?", (ns,))
        }

    def __getitem__(self, key: str) -> Any:
        return self._cache[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._cache[key] = value
        self._dirty[key] = value

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
        puts = [(self.ns, k, str(v) if type(v) is int else json.dumps(v, separators=(",", ":")))
                for k, v in self._dirty.items() if v is not _DELETED]
        gone = [(self.ns, k) for k, v in self._dirty.items() if v is _DELETED]
        self.conn.executemany("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?,?,?)", puts)
        self.conn.executemany("DELETE FROM kv WHERE ns=? AND key=?", gone)
        self._dirty.clear()

    def reload(self) -> None:
        """Forget unflushed changes and read the committed state again (after a rollback)."""
        self.__init__(self.conn, self.ns)  # type: ignore[misc]
