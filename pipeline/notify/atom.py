"""Atom feed of a rule's alerts (RFC 4287): ``atom_feed(rule, events)`` renders one (the web
service may serve it); the ``atom[:PATH]`` channel keeps it as a file.

The channel keeps the rule's last ``KEEP`` events beside the feed (``PATH.events.jsonl``,
one entry per (story, event): a repeated delivery changes nothing) and rewrites the feed
atomically (temporary file + rename), so a reader never sees half a feed.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from pipeline.models import AlertEvent, AlertRule, utcnow
from pipeline.notify.channel import DeliveryContext, local_path
from pipeline.notify.render import html_text, subject
from pipeline.notify.spec import check_atom

ATOM = "http://www.w3.org/2005/Atom"
KEEP = 200


def _entry_id(event: AlertEvent) -> str:
    return f"tag:newswire,2024:alert/{event.rule}/{event.story_id}/{event.event}"


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    child = ET.SubElement(parent, tag, attrs)
    if text is not None:
        child.text = text
    return child


def atom_feed(rule: AlertRule | str, events: Iterable[AlertEvent],
              self_url: str | None = None) -> str:
    """The rule's alerts as an Atom 1.0 document, newest first."""
    name = rule if isinstance(rule, str) else rule.name
    described = None if isinstance(rule, str) else (rule.description or rule.query)
    entries = sorted(events, key=lambda e: e.fired, reverse=True)
    feed = ET.Element("feed", {"xmlns": ATOM})
    _add(feed, "id", f"tag:newswire,2024:alerts/{name}")
    _add(feed, "title", f"newswire alerts: {name}")
    if described:
        _add(feed, "subtitle", described)
    _add(feed, "updated", (entries[0].fired if entries else utcnow()).isoformat())
    author = _add(feed, "author")
    _add(author, "name", "newswire")
    _add(feed, "generator", "newswire")
    if self_url:
        _add(feed, "link", rel="self", href=self_url)
    for event in entries:
        entry = _add(feed, "entry")
        _add(entry, "id", _entry_id(event))
        _add(entry, "title", subject(event).removeprefix("Re: "))
        _add(entry, "updated", event.fired.isoformat())
        _add(entry, "published", event.fired.isoformat())
        if event.url:
            _add(entry, "link", rel="alternate", href=event.url)
        _add(entry, "category", term=event.kind)
        _add(entry, "content", html_text(event), type="html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode")


def write_atom(path: Path, rule: AlertRule | str, event: AlertEvent) -> None:
    """Add ``event`` to the rule's feed file (idempotent) and rewrite the feed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    log = path.with_name(path.name + ".events.jsonl")
    known: dict[str, AlertEvent] = {}
    if log.exists():
        for line in log.read_text(encoding="utf-8").splitlines():
            if line.strip():
                old = AlertEvent.model_validate_json(line)
                known[_entry_id(old)] = old
    if _entry_id(event) not in known:
        known[_entry_id(event)] = event.model_copy(update={"state": "delivered", "error": None})
        kept = sorted(known.values(), key=lambda e: e.fired)[-KEEP:]
        _replace(log, "".join(e.model_dump_json() + "\n" for e in kept))
        known = {_entry_id(e): e for e in kept}
    _replace(path, atom_feed(rule, known.values()))


def _replace(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class AtomChannel:
    """``atom[:PATH]``: the rule's feed file (default ``alerts/RULE.atom`` in the data dir)."""

    scheme = "atom"

    def validate(self, target: str) -> None:
        check_atom(target)

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None:
        path = local_path(context, target or f"alerts/{event.rule}.atom")
        write_atom(path, context.rules.get(event.rule) or event.rule, event)
