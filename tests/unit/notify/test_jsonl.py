"""The jsonl channel keeps one line per (rule, story, event), across restarts and crashes."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.models import AlertRule
from pipeline.notify.jsonl import JsonlChannel
from pipeline.notify.notifier import Notifier, build_channel_settings
from tests.unit.notify.conftest import FAST, event

SPEC = "jsonl:out/alerts.jsonl"


@dataclass
class Context:
    base_dir: Path
    out: io.StringIO = field(default_factory=io.StringIO)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def send(channel: JsonlChannel, tmp_path: Path, **kw: object) -> None:
    await channel.deliver(event(SPEC, **kw), "out/alerts.jsonl",  # type: ignore[arg-type]
                          Context(tmp_path))  # type: ignore[arg-type]


async def test_a_repeated_delivery_after_a_restart_writes_nothing(tmp_path: Path) -> None:
    rule = AlertRule(name="pact", query="q", channels=[SPEC])
    for _ in range(2):  # a restart: a new notifier; the same alert is sent again
        n = Notifier(tmp_path, rules=[rule],
                     channels=build_channel_settings([rule], {}, delivery=FAST))
        [done] = await n.deliver_all([event(SPEC)])
        await n.aclose()
        assert done.state == "delivered"
    await send(JsonlChannel(), tmp_path)  # a fresh process reads the file first
    [row] = lines(tmp_path / "out/alerts.jsonl")
    assert (row["rule"], row["story_id"], row["kind"]) == ("pact", "s-1", "new")


async def test_other_events_of_the_same_story_get_their_own_lines(tmp_path: Path) -> None:
    channel = JsonlChannel()
    await send(channel, tmp_path)
    await send(channel, tmp_path, kind="update", sources=3)
    await send(channel, tmp_path, kind="update", sources=5)
    await send(channel, tmp_path, kind="update", sources=3)  # again: nothing
    await send(channel, tmp_path, rule="other")
    await send(channel, tmp_path, story="s-2")
    got = [(r["rule"], r["story_id"], r["kind"], r["sources"])
           for r in lines(tmp_path / "out/alerts.jsonl")]
    assert got == [("pact", "s-1", "new", 1), ("pact", "s-1", "update", 3),
                   ("pact", "s-1", "update", 5), ("other", "s-1", "new", 1),
                   ("pact", "s-2", "new", 1)]


async def test_lines_appended_by_another_process_are_seen(tmp_path: Path) -> None:
    channel, other = JsonlChannel(), JsonlChannel()
    await send(channel, tmp_path)  # this process has read the file
    await send(other, tmp_path, story="s-2")  # another one appends
    await send(channel, tmp_path, story="s-2")
    assert [r["story_id"] for r in lines(tmp_path / "out/alerts.jsonl")] == ["s-1", "s-2"]


async def test_a_line_cut_short_by_a_crash_does_not_swallow_the_next(tmp_path: Path) -> None:
    path = tmp_path / "out/alerts.jsonl"
    channel = JsonlChannel()
    await send(channel, tmp_path)
    with path.open("a") as fh:
        fh.write('{"rule": "pact", "story_id": "s-2", "ki')  # killed mid-write
    await send(channel, tmp_path, story="s-2")  # the cut-short line did not count
    await send(channel, tmp_path, story="s-3")
    rows = path.read_text().splitlines()
    assert rows[1] == '{"rule": "pact", "story_id": "s-2", "ki'
    assert [json.loads(r)["story_id"] for r in (rows[0], *rows[2:])] == ["s-1", "s-2", "s-3"]


async def test_a_rotated_file_starts_afresh(tmp_path: Path) -> None:
    path = tmp_path / "out/alerts.jsonl"
    channel = JsonlChannel()
    await send(channel, tmp_path)
    await send(channel, tmp_path, story="s-2")
    path.rename(path.with_name("alerts.jsonl.1"))
    await send(channel, tmp_path, story="s-3")
    await send(channel, tmp_path)  # not in the new file: the rotated one was read already
    assert [r["story_id"] for r in lines(path)] == ["s-3", "s-1"]
