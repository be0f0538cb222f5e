"""When to poll each feed next: adaptive interval, server and feed hints, jittered backoff.

Pure functions over the feed's state dict (times are UTC epoch seconds in ``next_poll``):

    success  interval from the feed's publishing rate (items/day) and its share of
             already-seen items, never sooner than the server or the feed asks
             (Cache-Control max-age, Expires, <ttl>, sy:updatePeriod/updateFrequency),
             clamped to [min_interval, max_interval], ±10 % jitter.
    failure  min_interval · 2^(failures-1), "equal jitter", capped at max_backoff;
             Retry-After (seconds or HTTP date) is honoured when longer.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "weekly": 604800.0, "monthly": 2592000.0,
            "yearly": 31536000.0}


@dataclass(frozen=True)
class Bounds:
    default_interval: float = 300.0
    min_interval: float = 60.0
    max_interval: float = 21600.0
    max_backoff: float = 86400.0


def _http_date(value: str) -> float | None:
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    when = _http_date(value)
    return max(0.0, when - now) if when is not None else None


def server_hint(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds the response stays fresh according to Cache-Control / Expires."""
    control = {k.strip().lower(): v.strip() for k, _, v in (
        part.partition("=") for part in headers.get("cache-control", "").split(","))}
    if "no-cache" in control or "no-store" in control:
        return None
    if control.get("max-age", "").isdigit():
        age = headers.get("age", "0")
        return max(0.0, float(control["max-age"]) - (float(age) if age.isdigit() else 0.0))
    expires = _http_date(headers.get("expires", ""))
    if expires is None:
        return None
    date = _http_date(headers.get("date", "")) or now
    return max(0.0, expires - date)


def feed_hint(feed: Mapping[str, Any]) -> float | None:
    """Seconds between updates the feed itself announces (<ttl> minutes, sy:update*)."""
    hints = []
    ttl = str(feed.get("ttl") or "").strip()
    if ttl.isdigit() and int(ttl) > 0:
        hints.append(int(ttl) * 60.0)
    period = _PERIODS.get(str(feed.get("sy_updateperiod") or "").strip().lower())
    if period:
        freq = str(feed.get("sy_updatefrequency") or "1").strip()
        hints.append(period / max(1, int(freq) if freq.isdigit() else 1))
    return max(hints) if hints else None


def adaptive_interval(previous: float, new: int, total: int, items_per_day: float | None,
                      bounds: Bounds) -> float:
    """Interval from the publishing rate and the share of already-seen items."""
    if total == 0 or new == 0:
        share_based = previous * 1.5  # nothing new: slow down
    elif new >= total:
        share_based = previous / 2  # everything new: we may be missing items
    else:
        share_based = previous * (1.5 - new / total)
    if items_per_day and items_per_day > 0:
        rate_based = 86400.0 / items_per_day / 2  # about two polls per expected item
        return math.sqrt(rate_based * share_based)
    return share_based


def clamp(value: float, bounds: Bounds) -> float:
    return min(bounds.max_interval, max(bounds.min_interval, value))


def plan_success(state: dict[str, Any], now: float, bounds: Bounds, *, new: int, total: int,
                 hint: float | None, rng: random.Random | None = None) -> None:
    previous = float(state.get("interval") or bounds.default_interval)
    interval = adaptive_interval(previous, new, total, state.get("items_per_day"), bounds)
    interval = clamp(max(interval, hint or 0.0), bounds)
    state["interval"] = round(interval, 1)
    jitter = (rng or random).uniform(0.9, 1.1)
    state["next_poll"] = round(now + interval * jitter, 3)


def plan_failure(state: dict[str, Any], now: float, bounds: Bounds, *,
                 wait: float | None = None, rng: random.Random | None = None) -> None:
    failures = max(1, int(state.get("failures") or 1))
    ceiling = min(bounds.max_backoff, bounds.min_interval * 2 ** min(failures - 1, 30))
    delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
    if wait is not None:
        delay = max(delay, min(wait, 7 * 86400.0))
    state["next_poll"] = round(now + delay, 3)


def is_due(state: Mapping[str, Any], now: float) -> bool:
    return float(state.get("next_poll") or 0.0) <= now


def seconds_until_due(states: Sequence[Mapping[str, Any]], now: float, ceiling: float) -> float:
    """How long the runtime may sleep before some feed is due (at most ``ceiling``)."""
    soonest = min((float(s.get("next_poll") or 0.0) for s in states), default=now + ceiling)
    return max(0.0, min(ceiling, soonest - now))


def now_epoch() -> float:
    return datetime.now(UTC).timestamp()
