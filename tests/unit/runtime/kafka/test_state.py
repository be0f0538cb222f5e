"""Journaled table views: an event's writes become durable all together or not at all."""

from __future__ import annotations

from typing import Any

from pipeline.runtime.kafka.state import JOURNAL, JournaledState, PendingWrites


class Recording(dict[str, Any]):
    """A dict that remembers the order of writes, as a changelog would."""

    def __init__(self) -> None:
        super().__init__()
        self.log: list[tuple[str, Any]] = []

    def __setitem__(self, key: str, value: Any) -> None:
        self.log.append((key, value))
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.log.append((key, None))
        super().__delitem__(key)


def test_pending_writes_are_invisible_to_the_table_until_commit() -> None:
    table = Recording()
    view = PendingWrites(table)
    view["a"] = 1
    assert view["a"] == 1 and "a" in view and "a" not in table
    view.commit()
    assert table == {"a": 1}
    view["b"] = 2
    view.discard()
    assert "b" not in view and list(view) == ["a"]


def test_journal_is_written_first_and_completes_a_cut_short_batch() -> None:
    table = Recording()
    table["old"] = 0
    view = JournaledState(table)
    view["x"], view["y"] = 1, 2
    del view["old"]
    view.commit()
    keys = [k for k, _ in table.log[1:]]
    assert keys[:2] == [f"{JOURNAL}:1:0", JOURNAL]  # before any of the batch's keys
    # a crash that kept only the journal and the first key write (a prefix)
    survived = Recording()
    survived["old"] = 0
    for key, value in table.log[1:4]:
        survived[key] = value
    JournaledState(survived).recover()
    assert dict(JournaledState(survived)) == {"x": 1, "y": 2}


def test_a_batch_writes_each_key_once_and_drops_the_previous_journal() -> None:
    table = Recording()
    view = JournaledState(table)
    for i in range(50):
        view["hot"] = i
    view.commit()
    assert [k for k, _ in table.log].count("hot") == 1 and table["hot"] == 49
    view["cold"] = 1
    view.commit()
    assert f"{JOURNAL}:1:0" not in table and table[JOURNAL]["seq"] == 2
    assert set(view) == {"hot", "cold"}


def test_a_big_batch_journal_is_cut_in_pieces_and_reassembled(monkeypatch: Any) -> None:
    import pipeline.runtime.kafka.state as state

    monkeypatch.setattr(state, "CHUNK_BYTES", 100)
    table = Recording()
    view = JournaledState(table)
    for i in range(40):
        view[f"k{i}"] = "v" * 20
    view.commit()
    assert table[JOURNAL]["chunks"] > 5
    survived = Recording()
    for key, value in table.log:
        survived[key] = value
        if key == JOURNAL:
            break  # cut right after the journal: no key written yet
    JournaledState(survived).recover()
    assert dict(JournaledState(survived)) == {f"k{i}": "v" * 20 for i in range(40)}


def test_a_savepoint_rolls_back_one_event_and_keeps_the_batch() -> None:
    table = Recording()
    table["kept"] = "old"
    view = JournaledState(table)
    view.savepoint()
    view["a"] = 1
    view.savepoint()
    view["a"], view["b"] = 2, 3
    del view["kept"]
    view.rollback()
    assert dict(view) == {"a": 1, "kept": "old"}
    view.commit()
    assert {k: v for k, v in table.items() if not k.startswith(JOURNAL)} == {
        "kept": "old", "a": 1}


def test_deleted_keys_read_as_missing() -> None:
    table = Recording()
    table["k"] = 1
    view = JournaledState(table)
    del view["k"]
    assert "k" not in view and view.get("k") is None and len(view) == 0
