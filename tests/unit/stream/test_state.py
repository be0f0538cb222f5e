"""Journaled table views: an event's writes become durable all together or not at all."""

from __future__ import annotations

from typing import Any

from pipeline.stream.state import JOURNAL, JournaledState, PendingWrites


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


def test_journal_is_written_first_and_completes_a_cut_short_event() -> None:
    table = Recording()
    table["old"] = 0
    view = JournaledState(table)
    view["x"], view["y"] = 1, 2
    del view["old"]
    view.commit()
    assert table.log[1][0] == JOURNAL  # before any of the event's keys
    # a crash that kept only the journal and the first key write (a prefix)
    survived = Recording()
    survived["old"] = 0
    for key, value in table.log[1:3]:
        survived[key] = value
    JournaledState(survived).recover()
    assert {k: v for k, v in survived.items() if k != JOURNAL} == {"x": 1, "y": 2}


def test_deleted_keys_read_as_missing() -> None:
    table = Recording()
    table["k"] = 1
    view = JournaledState(table)
    del view["k"]
    assert "k" not in view and view.get("k") is None and len(view) == 0
