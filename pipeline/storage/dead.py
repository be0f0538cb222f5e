"""Dead letters as people list them, on either backend.

    SQLite   table dead in the embedded store                    (storage.sqlite.store)
    Kafka    topic <prefix>.dead ──worker──▶ index <prefix>-dead     (storage.elasticsearch.dead)

Both answer the ``DeadLetterStore`` protocol: list (newest first, by stage and time),
fetch by key for replay, forget (a replayed letter that went through), purge by age,
and count by stage and reason class for ``/metrics``.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel

from pipeline.models import DeadLetter

PREVIEW_CHARS = 160
# Stages whose letters can be sent through again; the others say why not (``not_replayable``).
REPLAYABLE = ("ingest", "clean", "enrich", "index", "alert")
_WHY_NOT = {
    "poll": "a rejected feed entry is read again from its feed on the next poll",
    "produce": "the record was too large for Kafka and its body was not kept",
    "decode": "the message could not be decoded, so there is nothing to send again",
}


def since_moment(value: str, now: datetime | None = None) -> datetime:
    """A time given as ``2024-06-01``, an ISO time, date math (``now-7d``) or a period back
    from now (``7d``, ``24h``); raises QuerySyntaxError for anything else."""
    from pipeline.errors import QuerySyntaxError
    from pipeline.query.dates import parse_date

    text = f"now-{value}" if re.match(r"^\d+[smhdw]$", value) else value
    try:
        return parse_date(text, text).resolve(now or datetime.now(UTC), round_up=False)
    except (ValueError, OverflowError) as exc:  # date math beyond the calendar
        raise QuerySyntaxError(f"{value!r} is out of range: {exc}") from exc


class DeadRow(BaseModel):
    """One dead letter as ``newswire dead-letters --json``, the page and the API show it."""

    key: str
    stage: str
    reason: str
    at: datetime
    source: str | None
    preview: str


def letter_key(letter: DeadLetter) -> str:
    """The letter's key, or one derived from stage and payload (the same input dead-lettered
    twice at one stage is one letter)."""
    if letter.key:
        return letter.key
    digest = hashlib.sha1(f"{letter.stage}\x1f{letter.payload}".encode()).hexdigest()[:20]
    return f"{letter.stage}:{digest}"


def preview(payload: str, size: int = PREVIEW_CHARS) -> str:
    """The start of a payload on one line: its title if it has one, else its text."""
    title = re.search(r'"(?:title|headline)":\s*"((?:[^"\\]|\\.){1,300})"', payload)
    text = _unescape(title.group(1)) if title else payload
    text = " ".join(text.split())
    return text if len(text) <= size else text[:size - 1] + "…"


def _unescape(json_text: str) -> str:
    """A JSON string's inside as text (as written, if it is not valid JSON)."""
    try:
        return str(json.loads(f'"{json_text}"'))
    except ValueError:
        return json_text


_CLASS = re.compile(r"^([A-Z][A-Za-z0-9_]{2,60}):")
_WALL = re.compile(r"not an article \(([a-z][a-z -]{1,30})\)")


def reason_class(error: str) -> str:
    """A short, bounded class of a reason for metric labels and filters: ``oversized``,
    the kind of non-article page (``paywall``, ``consent``, ...), the exception type
    (``InvalidInput``), an archive line's fault (``invalid-json``, ``missing-field``,
    ``invalid-field``), else ``other``."""
    if error.startswith(("record too large for Kafka", "record refused by Kafka")):
        return "oversized"
    wall = _WALL.search(error)
    if wall:
        return wall.group(1).replace(" ", "-")
    found = _CLASS.match(error)
    if found:
        return found.group(1)
    if "not valid JSON" in error or "expected a JSON object" in error:
        return "invalid-json"
    if "missing required field" in error:
        return "missing-field"
    if re.match(r"line \d+: field ", error):
        return "invalid-field"
    return "other"


def not_replayable(stage: str, error: str = "") -> str | None:
    """Why a letter of ``stage`` (failed with ``error``) cannot be sent through again
    (None: it can)."""
    if error and reason_class(error) == "oversized":
        return _WHY_NOT["produce"]
    if stage in REPLAYABLE:
        return None
    return _WHY_NOT.get(stage, f"no stage {stage!r} to send it back to")


def row_of(key: str, letter: DeadLetter) -> DeadRow:
    return DeadRow(key=key, stage=letter.stage, reason=letter.error, at=letter.at,
                   source=letter.origin(), preview=preview(letter.payload))


class DeadLetterStore(Protocol):
    """Where a backend keeps its dead letters."""

    def dead_rows(self, stage: str | None = None, since: datetime | None = None,
                  limit: int = 1000) -> list[DeadRow]:
        """Letters newest first, of ``stage`` only, recorded at or after ``since``."""
        ...

    def dead_letters_by_key(self, stage: str | None = None,
                            keys: list[str] | None = None) -> dict[str, DeadLetter]:
        """Whole letters (payload included) by key: those of ``keys`` (all when None)."""
        ...

    def forget_dead(self, keys: list[str]) -> int:
        """Remove these letters (replayed and gone through); how many were removed."""
        ...

    def purge_dead(self, before: datetime, stage: str | None = None) -> int:
        """Remove the letters (of ``stage``) recorded before ``before``; how many."""
        ...

    def dead_counts(self) -> dict[tuple[str, str], int]:
        """Letters held per (stage, reason class)."""
        ...
