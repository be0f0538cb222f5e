"""The undo log: every write since the savepoint, one at a time or batched, is undone."""

from __future__ import annotations

from pathlib import Path

from pipeline.runtime.undo import UndoLog
from pipeline.storage.sqlite.store import SqliteStore


def test_rollback_undoes_single_and_batched_writes_and_deletes() -> None:
    inner = {"kept": 1, "changed": 2, "gone": 3}
    log = UndoLog(inner)
    log.savepoint()
    log["changed"] = 20
    log.update({"changed": 200, "new": 4, "df:x": 5})
    log.update([("pair", 6)], kw=7)
    del log["gone"]
    assert inner == {"kept": 1, "changed": 200, "new": 4, "df:x": 5, "pair": 6, "kw": 7}
    log.rollback()
    assert inner == {"kept": 1, "changed": 2, "gone": 3}


def test_batched_writes_after_the_savepoint_only_are_undone() -> None:
    inner: dict[str, int] = {}
    log = UndoLog(inner)
    log.update({"a": 1})
    log.savepoint()
    log.update({"a": 2, "b": 1})
    log.rollback()
    assert inner == {"a": 1}


def test_batched_writes_reach_the_sqlite_state_and_commit(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    log = UndoLog(store.mapping("cluster"))
    store.begin()
    log.update({"df:a": 1, "df:b": 2})
    log.savepoint()
    log.update({"df:b": 3, "df:c": 1})
    log.rollback()
    store.commit()
    assert dict(SqliteStore(tmp_path / "db.sqlite").mapping("cluster")) == {"df:a": 1, "df:b": 2}
