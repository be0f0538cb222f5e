"""The SQLite state mapping: values read back exactly as written, and state written by
earlier versions (json.dumps, NaN included) still loads."""

from __future__ import annotations

import json
import math
from pathlib import Path

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
