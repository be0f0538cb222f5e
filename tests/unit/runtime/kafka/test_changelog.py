"""Bulk changelog writes: the records a Faust table's recovery reads back as the state."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faust.serializers import codecs

from pipeline.runtime.kafka.changelog import BulkTable, ChangelogWriter
from pipeline.runtime.kafka.faust_compat import tables
from pipeline.runtime.kafka.state import JOURNAL, JournaledState
from pipeline.runtime.kafka.topics import StreamConfig, create_app


@pytest.fixture
def bulk(tmp_path: Path) -> BulkTable:
    app = create_app(StreamConfig(prefix="unit-changelog", datadir=tmp_path)).app
    table = app.Table("cluster-state", partitions=1, key_type=str, use_partitioner=True)
    return ChangelogWriter("127.0.0.1:1").table(table)


def replay(records: list[tuple[str, bytes | None, bytes | None]]) -> dict[str, Any]:
    """What faust's recovery makes of changelog records: the last value per key."""
    state: dict[str, Any] = {}
    for _, key, value in records:
        name = codecs.loads("json", key)
        if value is None:
            state.pop(name, None)
        else:
            state[name] = codecs.loads("json", value)
    return state


def test_records_are_encoded_as_the_table_itself_encodes_them(bulk: BulkTable) -> None:
    value = {"n": 3, "ids": ["a", "b"], "score": 0.25, "none": None, "é": "ü"}
    bulk["s:1"] = value
    ((topic, key, raw),) = bulk.writer.queued
    assert topic == tables.changelog_name(bulk.table)
    assert (key, raw) == (tables.encode_key(bulk.table, "s:1"),
                          tables.encode_value(bulk.table, value))


def test_a_journaled_batch_recovers_from_its_changelog_cut_anywhere(bulk: BulkTable) -> None:
    bulk["gone"], bulk["kept"] = 1, 2
    state = JournaledState(bulk)
    state.commit()
    state["kept"], state["new"], state["df:x"] = [1, 2], {"s": "story"}, 7
    del state["gone"]
    state.commit()
    records = list(bulk.writer.queued)
    assert replay(records) == {"kept": [1, 2], "new": {"s": "story"}, "df:x": 7,
                               JOURNAL: {"seq": 1, "chunks": 1},
                               f"{JOURNAL}:1:0": {"set": {"kept": [1, 2], "new": {"s": "story"},
                                                          "df:x": 7}, "del": ["gone"]}}
    head = next(i for i, (_, key, _) in enumerate(records)
                if codecs.loads("json", key) == JOURNAL)
    for cut in range(head + 1, len(records) + 1):  # any prefix with the journal committed
        survived = replay(records[:cut])
        JournaledState(survived).recover()
        assert {k: v for k, v in survived.items() if not k.startswith(JOURNAL)} == {
            "kept": [1, 2], "new": {"s": "story"}, "df:x": 7}


def test_big_journals_are_cut_in_pieces_of_whole_entries(bulk: BulkTable,
                                                         monkeypatch: Any) -> None:
    import pipeline.runtime.kafka.state as state_module

    monkeypatch.setattr(state_module, "CHUNK_BYTES", 64)
    state = JournaledState(bulk)
    written = {f"k{i}": "v" * (i % 40) for i in range(30)} | {"huge": "x" * 200}
    for key, value in written.items():
        state[key] = value
    state.commit()
    pieces = {k: v for k, v in bulk.items() if k.startswith(f"{JOURNAL}:")}
    assert len(pieces) == bulk[JOURNAL]["chunks"] > 5
    assert {k: v for p in pieces.values() for k, v in p["set"].items()} == written
    survived = replay([r for r in bulk.writer.queued
                       if codecs.loads("json", r[1]).startswith(JOURNAL)])
    JournaledState(survived).recover()
    assert {k: v for k, v in survived.items() if not k.startswith(JOURNAL)} == written


def test_a_journal_written_as_text_still_recovers() -> None:
    """Changelogs written before journal pieces were objects: the text cut in pieces."""
    journal = '{"set": {"a": 1, "b": [2]}, "del": ["c"]}'
    old = {JOURNAL: {"seq": 4, "chunks": 2}, f"{JOURNAL}:4:0": journal[:10],
           f"{JOURNAL}:4:1": journal[10:], "c": 3}
    JournaledState(old).recover()
    assert {k: v for k, v in old.items() if not k.startswith(JOURNAL)} == {"a": 1, "b": [2]}
