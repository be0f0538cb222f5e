"""The Atom feed of a rule's alerts: valid Atom (parsed with feedparser), file idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from pipeline.models import AlertRule, DigestItem
from pipeline.notify.notifier import Notifier, atom_feed
from tests.unit.notify.conftest import event

RULE = AlertRule(name="pact", query="ukraine", description="US-Ukraine pacts",
                 channels=["atom"])


def test_atom_feed_parses_as_atom() -> None:
    first = event("atom")
    later = event("atom", kind="update", sources=4)
    later.fired = first.fired + timedelta(minutes=5)
    parsed = feedparser.parse(atom_feed(RULE, [first, later]))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "newswire alerts: pact"
    assert parsed.feed.subtitle == "US-Ukraine pacts"
    assert [e.id for e in parsed.entries] == [
        "tag:newswire,2024:alert/pact/s-1/update:4", "tag:newswire,2024:alert/pact/s-1/new"]
    assert parsed.entries[1].link == "https://outlet.example/a-1"
    assert "security" in parsed.entries[1].title
    assert parsed.entries[0].tags[0].term == "update"


def test_empty_feed_is_valid() -> None:
    parsed = feedparser.parse(atom_feed("pact", []))
    assert not parsed.bozo and parsed.version == "atom10" and parsed.entries == []


async def test_atom_channel_writes_a_file_once_per_event(tmp_path: Path) -> None:
    notifier = Notifier(tmp_path, rules=[RULE])
    new = event("atom")
    digest = event("atom", kind="digest", story="digest:2024-06-13T07:00:00+00:00")
    digest.stories = [DigestItem(story_id="s-1", article_id="a-1", headline="Pact signed")]
    digest.fired = datetime(2030, 1, 1, tzinfo=UTC)
    for e in (new, new, digest):  # a repeated delivery adds nothing
        await notifier.deliver(e)
    path = tmp_path / "alerts" / "pact.atom"
    parsed = feedparser.parse(path.read_text())
    assert not parsed.bozo and len(parsed.entries) == 2
    assert "Pact signed" in parsed.entries[0].summary
