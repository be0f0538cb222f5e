"""An unusable data directory stops every command that opens the store with the path and
what to do, exit 2, no traceback (issue #16 item 7), through the real CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.storage.sqlite import datadir
from tests.conftest import REPO, newswire

COMMANDS = [["search", "quake"], ["stories"], ["export"], ["alerts", "log"], ["feeds"],
            ["run", "--once"], ["story", "s-1"], ["explain", "a-1"]]


def config(tmp_path: Path) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "feeds.yaml").write_text("feeds: []\n")
    (folder / "topics.yaml").write_text((REPO / "config" / "topics.yaml").read_text())
    return folder


def assert_clear(proc: object, *words: str) -> None:
    out = proc.stdout + proc.stderr  # type: ignore[attr-defined]
    assert proc.returncode == 2, out  # type: ignore[attr-defined]
    assert "Traceback" not in out and "Error:" not in out.replace("error:", ""), out
    for word in words:
        assert word in " ".join(out.split()), out


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_file_where_the_data_directory_should_be(tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "data"
    data.write_text("not a directory")
    proc = newswire(config(tmp_path), data, *args, check=False)
    assert_clear(proc, str(data), "is a file", "--data-dir")


def test_a_file_above_the_data_directory(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("x")
    data = tmp_path / "blocker" / "data"
    proc = newswire(config(tmp_path), data, "ingest", str(tmp_path / "none.jsonl"), check=False)
    assert_clear(proc, str(data), str(tmp_path / "blocker"), "a file")


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a))
def test_a_damaged_database(tmp_path: Path, args: list[str]) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "newswire.db").write_bytes(b"this is not SQLite at all" * 100)
    proc = newswire(config(tmp_path), data, *args, check=False)
    assert_clear(proc, str(data / "newswire.db"), "damaged", "move it aside")


def test_no_permission(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root ignores file modes, so the refusal is simulated at ``os.access``, the check the
    data directory goes through; the message is what a user without access reads."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setattr(datadir.os, "access", lambda path, mode: Path(path) != data)
    problem = datadir.data_dir_problem(data)
    assert problem is not None and str(data) in problem and "no permission" in problem
