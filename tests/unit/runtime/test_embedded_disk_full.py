"""The embedded runtime on a full database: SQLite's real SQLITE_FULL (the page limit of
``PRAGMA max_page_count`` reached, the error path of a full disk) rolls the batch back whole,
is logged in words, and the batch goes in once there is room; nothing lost, nothing twice.
(tests/integration/faults fills a real tmpfs the same way.)"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from pipeline.runtime.embedded import raw_id
from pipeline.storage.sqlite.datadir import disk_full
from tests.integration.corpus import articles
from tests.unit.runtime.test_embedded import runtime


def test_disk_full_recognises_sqlite_full_only(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE t (x TEXT)")
    conn.execute(f"PRAGMA max_page_count={conn.execute('PRAGMA page_count').fetchone()[0]}")
    with pytest.raises(sqlite3.OperationalError) as full:
        conn.executemany("INSERT INTO t VALUES (?)", [("x" * 4000,)] * 10)
    with pytest.raises(sqlite3.OperationalError) as other:
        conn.execute("SELECT * FROM missing")
    conn.close()
    assert disk_full(full.value) and not disk_full(other.value)
    assert not disk_full(ValueError("database or disk is full"))


async def test_a_full_database_holds_the_batch_until_there_is_room(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rt = runtime(tmp_path)
    raws = articles(n_stories=30, seed=3)
    try:
        await rt.process(raws[:40])
        conn = rt.store.conn
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count={pages + 2}")
        with caplog.at_level(logging.ERROR, logger="pipeline.runtime.embedded"):
            task = asyncio.ensure_future(rt.process(raws[40:]))
            for _ in range(100):
                if "SQLITE_FULL" in caplog.text or task.done():
                    break
                await asyncio.sleep(0.05)
            assert not task.done() and "disk full: database" in caplog.text
            assert len(list(rt.store.export())) == 40  # the batch rolled back whole
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            conn.execute("PRAGMA max_page_count=1073741823")  # space is back
            stats = await asyncio.wait_for(task, timeout=30)
        assert stats.processed == len(raws) - 40 and stats.dead == 0
        stored = Counter(a.id for a in rt.store.export())
        assert set(stored) == {raw_id(r) for r in raws}
        assert Counter(a for s in rt.store.stories() for a in s.article_ids) == stored
    finally:
        await rt.close()
