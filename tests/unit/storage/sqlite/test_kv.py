"""The SQLite state mapping: values read back exactly as written, writes since a savepoint
undone, packed keys (document frequencies) written one row a batch and folded, and state
written by earlier versions (json.dumps, NaN included; a row per count) still loads."""

from __future__ import annotations

import json
import math
from pathlib import Path

from pipeline.storage.sqlite.kv import COMPACT_AFTER
from pipeline.storage.sqlite.store import SqliteStore


def test_values_read_back_exactly(tmp_path: Path) -> None:
    value = {"c": {"e:k\u00f6ln": 0.1 + 0.2, "w": 1e-17, "big": 1.5e16}, "n": 2**40,
             "l": ["a", None, True, -0.0], "s": "caf\u00e9 \u2014 \U0001f600"}
    store = SqliteStore(tmp_path / "db.sqlite")
    state = store.mapping("cluster")
    store.begin()
    state["v"] = value
    state.update({"df:x": 3, "huge": 2**70})  # past 64 bits: written as json writes it
    store.commit()
    again = SqliteStore(tmp_path / "db.sqlite").mapping("cluster")
    assert again["v"] == value and again["df:x"] == 3 and again["huge"] == 2**70
    assert again.get("absent", "default") == "default"


def test_state_written_by_json_dumps_still_loads(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    old = {"c": {"x": 0.30000000000000004}, "nan": float("nan"), "inf": float("inf")}
    store.conn.execute("INSERT INTO kv (ns, key, value) VALUES (?,?,?)",
                       ("cluster", "v", json.dumps(old, separators=(",", ":"))))
    store.conn.commit()
    loaded = SqliteStore(tmp_path / "db.sqlite").mapping("cluster")["v"]
    assert loaded["c"] == old["c"] and math.isnan(loaded["nan"]) and loaded["inf"] == math.inf


def test_rollback_undoes_writes_since_the_savepoint_only(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    state = store.mapping("cluster")
    store.begin()
    state.update({"kept": 1, "changed": 2, "gone": 3})
    state.savepoint()
    state["changed"] = 20
    state.update({"changed": 200, "new": 4, "df:x": 5})
    state.update([("pair", 6)], kw=7)
    del state["gone"]
    assert dict(state) == {"kept": 1, "changed": 200, "new": 4, "df:x": 5, "pair": 6, "kw": 7}
    state.rollback()
    assert dict(state) == {"kept": 1, "changed": 2, "gone": 3}
    state.savepoint()
    state.update({"df:x": 1})
    store.commit()
    again = SqliteStore(tmp_path / "db.sqlite").mapping("cluster")
    assert dict(again) == {"kept": 1, "changed": 2, "gone": 3, "df:x": 1}


def test_a_rolled_back_key_is_not_written_and_a_rolled_back_delete_is_kept(
        tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    state = store.mapping("cluster")
    store.begin()
    state["old"] = [1]
    store.commit()
    store.begin()
    state.savepoint()
    state["fresh"] = 1
    del state["old"]
    state.rollback()
    store.commit()
    assert dict(SqliteStore(tmp_path / "db.sqlite").mapping("cluster")) == {"old": [1]}
    store.begin()
    state["old"] = [2]
    store.commit()
    state.rollback()  # no savepoint since: what was committed stays
    assert state["old"] == [2]


def rows(store: SqliteStore, ns: str) -> list[str]:
    return [k for (k,) in store.conn.execute("SELECT key FROM kv WHERE ns=? ORDER BY key", (ns,))]


def test_counts_are_one_row_a_batch_then_folded_and_read_back(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    state = store.mapping("cluster")
    expected: dict[str, int] = {}
    for batch in range(COMPACT_AFTER + 3):
        store.begin()
        counts = {f"df:w{batch}-{i}": i + 1 for i in range(50)} | {"df:every": batch}
        state.update(counts)
        expected |= counts
        if batch == 2:
            del state["df:w0-7"]
            del expected["df:w0-7"]
        state["s:story"] = {"batch": batch}
        store.commit()
        assert [k for k in rows(store, "cluster") if k.startswith("df:")] == []
        again = SqliteStore(tmp_path / "db.sqlite").mapping("cluster")
        assert dict(again) == expected | {"s:story": {"batch": batch}}
    assert rows(store, "cluster#packed") == ["base:00000000", "log:00000000", "log:00000001"]


def test_counts_written_a_row_each_by_earlier_versions_load_and_fold(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db.sqlite")
    store.conn.executemany("INSERT INTO kv (ns, key, value) VALUES (?,?,?)",
                           [("cluster", "df:old", "3"), ("cluster", "df:pruned", "1"),
                            ("cluster", "ix:e:kyiv", '["s-1"]'), ("cluster", "b:0:ab", '["x"]'),
                            ("cluster", "dfx", "[1]"), ("cluster", "meta", '{"n":4}')])
    state = store.mapping("cluster")
    assert dict(state) == {"df:old": 3, "df:pruned": 1, "ix:e:kyiv": ["s-1"], "b:0:ab": ["x"],
                           "dfx": [1], "meta": {"n": 4}}
    for batch in range(COMPACT_AFTER + 1):
        store.begin()
        state["df:old"] += 1
        state["ix:e:kyiv"] = [*state["ix:e:kyiv"], f"s-{batch + 2}"]
        if batch == 0:
            del state["df:pruned"], state["b:0:ab"]
        store.commit()
        again = SqliteStore(tmp_path / "db.sqlite").mapping("cluster")
        assert dict(again) == {"df:old": 4 + batch, "dfx": [1], "meta": {"n": 4},
                               "ix:e:kyiv": [f"s-{n}" for n in range(1, batch + 3)]}
    assert rows(store, "cluster") == ["dfx", "meta"]  # the old count rows went when folded
    assert rows(store, "cluster#packed") == ["base:00000000"]
