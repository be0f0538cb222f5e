"""Feed health: ok / failing / stale / gone, in the feed's state dict.

    ok       the last poll worked (a not-well-formed feed that still yielded entries is ok,
             its warning kept in ``last_error``)
    failing  the last poll failed: ``failures`` in a row, ``last_error`` in words
    gone     HTTP 410, or HTTP 404 for ``GONE_AFTER`` polls in a row (polled rarely)
    stale    ok, but silent well beyond its usual rhythm: no new item for
             max(STALE_FACTOR × the usual gap between items, STALE_MIN_DAYS)

``items_per_day`` is the rhythm read from the entries' dates (a smoothed estimate);
``items_total`` counts the items ingested from this feed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pipeline.models import AlertEvent

GONE_AFTER = 5
ALERT_AFTER_FAILURES = 3  # one transient failure is not worth an alert
STALE_FACTOR = 5.0
STALE_MIN_DAYS = 2.0
HEALTH_FIELDS = ("url", "title", "state", "last_success", "failures", "last_error",
                 "items_per_day", "items_total")


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def observe_items(state: dict[str, Any], times: Iterable[datetime | None]) -> None:
    """Update ``items_per_day`` and ``last_item_at`` from the dates of the feed's entries."""
    dated = sorted(t for t in times if t is not None)
    if not dated:
        return
    newest = dated[-1].isoformat()
    if newest > str(state.get("last_item_at") or ""):
        state["last_item_at"] = newest
    span_days = (dated[-1] - dated[0]).total_seconds() / 86400
    if len(dated) < 2 or span_days <= 0:
        return
    rate = (len(dated) - 1) / span_days
    old = state.get("items_per_day")
    state["items_per_day"] = round(rate if old is None else 0.5 * float(old) + 0.5 * rate, 3)


def record_success(state: dict[str, Any], new_items: int, now: datetime | None = None,
                   warning: str | None = None) -> bool:
    """Update health after a good poll; True when the feed recovered (log once)."""
    recovered = state.get("state") in ("failing", "gone")
    at = _now(now).isoformat()
    state.update(state="ok", failures=0, last_error=warning, last_success=at,
                 items_total=int(state.get("items_total", 0)) + new_items)
    state.pop("failing_since", None)
    if new_items:
        state["last_new_at"] = at
    return recovered


def record_failure(state: dict[str, Any], error: str, now: datetime | None = None,
                   kind: str | None = None, status: int | None = None) -> bool:
    """Update health after a failed poll; True when the feed just started failing."""
    started = state.get("state") not in ("failing", "gone")
    failures = int(state.get("failures", 0)) + 1
    gone = kind == "gone" or (status == 404 and failures >= GONE_AFTER)
    state.update(state="gone" if gone else "failing", failures=failures, last_error=error,
                 error_kind=kind)
    state.setdefault("failing_since", _now(now).isoformat())
    return started


def classify(state: Mapping[str, Any], now: datetime | None = None) -> str:
    """The state shown to people: new, ok, failing, gone or stale."""
    current = str(state.get("state") or "new")
    if current != "ok" or state.get("file_signature"):
        return current  # a local file changes when someone edits it: its silence is not news
    last = state.get("last_item_at") or state.get("last_new_at")
    rate = state.get("items_per_day")
    if not last or not rate:
        return "ok"
    gap_days = 1.0 / float(rate)
    silent_days = (_now(now) - datetime.fromisoformat(str(last))).total_seconds() / 86400
    return "stale" if silent_days > max(STALE_FACTOR * gap_days, STALE_MIN_DAYS) else "ok"


def _z(moment: Any) -> str | None:
    """A stored UTC time as every JSON output writes it (ISO 8601 with ``Z``)."""
    return None if moment is None else str(moment).replace("+00:00", "Z")


def health_row(url: str, name: str | None, state: Mapping[str, Any],
               now: datetime | None = None) -> dict[str, Any]:
    """One row of ``newswire feeds``: the fields of HEALTH_FIELDS (+ moved_to, next_poll)."""
    next_poll = state.get("next_poll")
    return {
        "url": url, "title": state.get("title") or name, "state": classify(state, now),
        "last_success": _z(state.get("last_success")), "failures": int(state.get("failures", 0)),
        "last_error": state.get("last_error"), "items_per_day": state.get("items_per_day"),
        "items_total": int(state.get("items_total", 0)), "moved_to": state.get("moved_to"),
        "next_poll": _z(datetime.fromtimestamp(float(next_poll), UTC).isoformat())
        if next_poll else None,
    }


def alert_due(state: dict[str, Any], now: datetime | None = None) -> str | None:
    """The health state to alert about (failing, stale, gone) once per episode, else None."""
    shown = classify(state, now)
    if shown == "ok":
        state.pop("alerted", None)
        return None
    if shown not in ("failing", "stale", "gone") or state.get("alerted") == shown:
        return None
    if shown == "failing" and int(state.get("failures", 0)) < ALERT_AFTER_FAILURES:
        return None
    state["alerted"] = shown
    return shown


def feed_alert(url: str, title: str | None, shown: str, state: Mapping[str, Any],
               channel: str) -> AlertEvent:
    """An AlertEvent for the notifier: rule ``feed-health``, keyed by feed and state."""
    why = state.get("last_error") or "no new items for longer than its usual rhythm"
    return AlertEvent(rule="feed-health", story_id=f"feed:{url}", article_id=url,
                      headline=f"feed {shown}: {title or url} — {why}", query=url,
                      channel=channel)
