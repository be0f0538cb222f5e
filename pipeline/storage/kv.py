"""A MutableMapping over one namespace of the SQLite ``kv`` table.

Stages keep their state in mappings (cluster state, fired-alert keys). Reads are cached
(the embedded runtime is the only writer); writes go straight into the open transaction,
so they commit or roll back together with the articles that caused them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, MutableMapping
from typing import Any

_MISSING = object()


class SqliteMapping(MutableMapping[str, Any]):
    def __init__(self, conn: sqlite3.Connection, ns: str) -> None:
        self.conn = conn
        self.ns = ns
        self._cache: dict[str, Any] = {}
        rows = conn.execute("SELECT key, value FROM kv WHERE ns=?", (ns,))
        for key, value in rows:
            self._cache[key] = json.loads(value)

    def __getitem__(self, key: str) -> Any:
        return self._cache[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.conn.execute("INSERT OR REPLACE INTO kv (ns, key, value) VALUES (?,?,?)",
                          (self.ns, key, json.dumps(value, separators=(",", ":"))))
        self._cache[key] = value

    def __delitem__(self, key: str) -> None:
        del self._cache[key]
        self.conn.execute("DELETE FROM kv WHERE ns=? AND key=?", (self.ns, key))

    def __contains__(self, key: object) -> bool:
        return key in self._cache

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._cache))

    def __len__(self) -> int:
        return len(self._cache)

    def reload(self) -> None:
        """Drop the cache and read the committed state again (after a rollback)."""
        self.__init__(self.conn, self.ns)  # type: ignore[misc]
