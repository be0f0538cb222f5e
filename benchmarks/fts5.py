"""The CPU anchor for ingest: SQLite FTS5 alone indexing the same texts.

``index_cpu`` inserts (title, text) pairs into an FTS5 table (``porter unicode61``: stemmed,
as newswire's own analysis) in one transaction on a file database, and returns the CPU
seconds of this process (best of ``repeats``). Ingest CPU is reported as a ratio to it,
measured in the same run, so the figure does not depend on how loaded the machine is.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path


def index_cpu(docs: Sequence[tuple[str, str]], repeats: int = 3) -> float:
    """CPU seconds for FTS5 to index ``docs`` (title, text), best of ``repeats``."""
    best = float("inf")
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            conn = sqlite3.connect(Path(tmp) / "fts5.db", isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("CREATE VIRTUAL TABLE docs USING fts5(title, text, "
                         "tokenize='porter unicode61')")
            start = time.process_time()
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO docs (title, text) VALUES (?, ?)", docs)
            conn.execute("COMMIT")
            best = min(best, time.process_time() - start)
            conn.close()
    return best
