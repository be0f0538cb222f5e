"""Words and times as people read them, for the page and the command line.

    plural(1, "article")          → "1 article"      plural(3, "story", "stories") → "3 stories"
    iso(datetime)                 → "2024-06-13T09:00:00Z"  (every JSON output: UTC with Z)
    when("2024-06-13T09:00:00+00:00") → "2024-06-13 09:00"  (ISO text or datetime; None → "")
    evidence_values(["e:biden", "d:6-13"]) → "biden, day 6-13"  (a story decision's evidence)
"""

from __future__ import annotations

from datetime import UTC, datetime


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and the word in the number that fits: 1 article, 2 articles, 0 articles."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with ``Z``, as pydantic writes datetimes (``--json`` and exports)."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def when(moment: datetime | str | None, empty: str = "") -> str:
    """A time for people: ``YYYY-MM-DD HH:MM`` (UTC); ISO text is read first; text that is
    not a time is shown as it is."""
    if moment is None or moment == "":
        return empty
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return str(moment)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M")


_VALUE_PREFIXES = {"d": "day ", "y": "year ", "m": "magnitude ", "$": "$", "a": "age "}


def evidence_values(values: list[str]) -> str:
    """Story evidence as read: ``e:biden`` → biden, ``d:6-13`` → day 6-13 (names are
    stemmed as the matcher sees them)."""
    shown = []
    for value in values:
        prefix, sep, rest = value.partition(":")
        shown.append(f"{_VALUE_PREFIXES.get(prefix, '')}{rest}".strip() if sep else value)
    return ", ".join(shown)
