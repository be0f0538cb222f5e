"""Date values of the query language, resolved by Elasticsearch's rules for ranges.

A value is an ISO date or time (``2026-03-02``, ``2026-03-02T10``, ``2026-03-02T10:30:00Z``),
``now``, or date math on either (``now-7d``, ``now/d``, ``2026-03-02||+1M/M``; units
y M w d h H m s). Each bound is resolved the way Elasticsearch resolves it in a range:

    bound        rounding (``/d``) and a value's missing parts (``2026-03-02`` = to the day)
    ``[`` gte    round down: first millisecond          2026-03-02 → 2026-03-02T00:00:00.000
    ``{`` gt     round up:   last millisecond           2026-03-02 → 2026-03-02T23:59:59.999
    ``]`` lte    round up:   last millisecond           2026-03-02 → 2026-03-02T23:59:59.999
    ``}`` lt     round down: first millisecond          2026-03-02 → 2026-03-02T00:00:00.000

so ``published:[2026-03-02 TO 2026-03-02]`` is the whole day and ``published:2026-03-02``
the same. As in Elasticsearch, a value anchored with ``||`` is not rounded by its missing
parts (only by an explicit ``/unit``), ``now`` is the time of evaluation, and times are UTC
unless they carry an offset. Year-only and year-month values are refused: Elasticsearch
reads their missing day as the 1st even when rounding up; ``2024-06-01||/M`` says "June".
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

from pipeline.errors import QuerySyntaxError

_ISO = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)
_MATH = re.compile(r"([+-])(\d+)([yMwdhHms])|/([yMwdhHms])")
_SECONDS = {"w": 7 * 86400, "d": 86400, "h": 3600, "H": 3600, "m": 60, "s": 1}
_HINT = "use YYYY-MM-DD, an ISO time, or date math such as now-7d, now/d or 2024-06-01||/M"


@dataclass(frozen=True)
class DateValue:
    """One bound as written: an anchor (None = now), the unit of its last given part
    (None when given to the fraction of a second, or anchored with ``||``), math steps."""

    anchor: datetime | None
    precision: str | None
    steps: tuple[tuple[str, int], ...] = ()  # ("+", n) per unit as (unit, n); ("/", 0) round
    text: str = ""

    def resolve(self, now: datetime, *, round_up: bool) -> datetime:
        """The instant this bound stands for, to the millisecond, as Elasticsearch sees it."""
        if self.anchor is None:
            at = now
        elif self.precision and round_up:
            at = _ceil(self.anchor, self.precision)
        else:
            at = self.anchor
        for unit, amount in self.steps:
            if amount == 0 and unit.startswith("/"):
                at = _ceil(at, unit[1]) if round_up else _floor(at, unit[1])
            else:
                at = _add(at, amount, unit)
        return truncate_ms(at)


def parse_date(value: str, query: str) -> DateValue:
    """A date value of the query language; a bad one raises QuerySyntaxError saying what
    to write."""
    text = value.replace("\\", "")
    if text.startswith("now"):
        return DateValue(None, None, _steps(text[3:], value, query), value)
    anchor_text, sep, math = text.partition("||")
    anchor, precision = _iso(anchor_text, value, query)
    if sep:
        return DateValue(anchor, None, _steps(math, value, query), value)
    return DateValue(anchor, precision, (), value)


def truncate_ms(at: datetime) -> datetime:
    """Elasticsearch keeps dates to the millisecond; compare stored times the same way."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def _iso(text: str, value: str, query: str) -> tuple[datetime, str | None]:
    found = _ISO.match(text)
    if not found:
        raise QuerySyntaxError(f"bad date {value!r} in {query!r}: {_HINT}")
    year, month, day, hour, minute, second, fraction, zone = found.groups()
    try:
        at = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0), int((fraction or "0").ljust(6, "0")[:6]),
                      tzinfo=_zone(zone))
    except ValueError as exc:
        raise QuerySyntaxError(f"bad date {value!r} in {query!r}: {exc}") from exc
    precision = (None if fraction else "s" if second else "m" if minute
                 else "h" if hour else "d")
    return at.astimezone(UTC), precision


def _zone(zone: str | None) -> timezone:
    if not zone or zone == "Z":
        return UTC
    digits = zone[1:].replace(":", "")
    offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(offset if zone[0] == "+" else -offset)


def _steps(math: str, value: str, query: str) -> tuple[tuple[str, int], ...]:
    steps: list[tuple[str, int]] = []
    pos = 0
    for step in _MATH.finditer(math):
        if step.start() != pos:
            break
        pos = step.end()
        sign, amount, unit, rounding = step.groups()
        if rounding:
            steps.append(("/" + rounding, 0))
        else:
            steps.append((unit, int(amount) if sign == "+" else -int(amount)))
    if pos != len(math):
        raise QuerySyntaxError(f"bad date math {value!r} in {query!r}: {_HINT}")
    return tuple(steps)


def _add(at: datetime, amount: int, unit: str) -> datetime:
    if unit in ("y", "M"):
        months = at.month - 1 + amount * (12 if unit == "y" else 1)
        year, month = at.year + months // 12, months % 12 + 1
        return at.replace(year=year, month=month,
                          day=min(at.day, calendar.monthrange(year, month)[1]))
    return at + timedelta(seconds=amount * _SECONDS[unit])


def _floor(at: datetime, unit: str) -> datetime:
    at = at.astimezone(UTC)
    if unit == "y":
        return at.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "M":
        return at.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if unit == "w":
        return _floor(at, "d") - timedelta(days=at.weekday())
    keep = {"d": 0, "h": 1, "H": 1, "m": 2, "s": 3}[unit]
    parts = [at.hour, at.minute, at.second][:keep] + [0] * (3 - keep)
    return at.replace(hour=parts[0], minute=parts[1], second=parts[2], microsecond=0)


def _ceil(at: datetime, unit: str) -> datetime:
    """The last millisecond of the unit ``at`` falls in (Elasticsearch's round up)."""
    return _add(_floor(at, unit), 1, unit) - timedelta(milliseconds=1)


__all__ = ["DateValue", "parse_date", "truncate_ms"]
