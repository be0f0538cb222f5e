"""Feed polling: RSS/Atom/JSON over HTTP (conditional GET) or from local files → RawArticle.

The poller owns HTTP; state per feed (ETag, Last-Modified, health) is a plain dict the
runtime persists. A failing feed is logged once when its state changes, not every poll.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import feedparser
import httpx
from pydantic import ValidationError

from pipeline.errors import FetchError
from pipeline.models import FeedSource, RawArticle

logger = logging.getLogger(__name__)
MAX_FEED_BYTES = 20 * 1024 * 1024


@dataclass
class FeedResult:
    """One poll of one feed: new raw articles, entries that could not be read, new state."""

    feed: FeedSource
    articles: list[RawArticle] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (entry repr, reason)
    state: dict[str, Any] = field(default_factory=dict)
    not_modified: bool = False


def _entry_time(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _entry_body(entry: Any) -> tuple[str | None, str | None]:
    """(html, summary): full content when the feed carries it, else the summary."""
    contents = entry.get("content") or []
    best = max((c.get("value", "") for c in contents), key=len, default="")
    summary = entry.get("summary")
    return (best or None), summary


_TAG = re.compile(r"<[a-zA-Z/][^>]*>")


def entries_to_articles(
    parsed: Any, feed: FeedSource
) -> Iterator[RawArticle | tuple[str, str]]:
    """Feed entries as RawArticle, or (entry, reason) for an entry that cannot be one."""
    feed_source = feed.name or parsed.feed.get("title") or None
    for entry in parsed.entries:
        source = (entry.get("source") or {}).get("title") or feed_source
        link = entry.get("link") or (entry.get("id") if str(entry.get("id", "")).startswith(
            "http") else None)
        html, summary = _entry_body(entry)
        plain = summary if summary and not html and not _TAG.search(summary) else None
        try:
            yield RawArticle(
                url=link or "",
                title=entry.get("title"),
                html=html,
                text=plain,
                summary=summary if not html and not plain else None,
                author=entry.get("author"),
                published=_entry_time(entry),
                source=source,
                feed_url=feed.url,
                guid=entry.get("id"),
            )
        except ValidationError as exc:
            what = entry.get("title") or entry.get("id") or "entry"
            yield (f"{feed.url} :: {what}", f"invalid feed entry: {exc.errors()[0]['msg']} "
                   f"(field {'.'.join(map(str, exc.errors()[0]['loc']))})")


class Poller:
    """Polls feeds; HTTP through an injectable httpx client (tests pass a MockTransport)."""

    def __init__(self, client: httpx.AsyncClient | None = None, timeout: float = 20.0,
                 user_agent: str = "newswire") -> None:
        self.client = client or httpx.AsyncClient(
            timeout=timeout, follow_redirects=True, headers={"User-Agent": user_agent})

    async def close(self) -> None:
        await self.client.aclose()

    async def poll(self, feed: FeedSource, state: dict[str, Any]) -> FeedResult:
        """Fetch and parse one feed. Raises FetchError (retryable) on network/HTTP failure."""
        result = FeedResult(feed=feed, state=dict(state))
        content = await self._fetch(feed, result)
        if content is None:
            result.not_modified = True
            return result
        parsed = feedparser.parse(content)
        if parsed.bozo and not parsed.entries:
            raise FetchError(f"{feed.url}: not a readable feed ({parsed.get('bozo_exception')})")
        for item in entries_to_articles(parsed, feed):
            if isinstance(item, RawArticle):
                result.articles.append(item)
            else:
                result.rejected.append(item)
        if parsed.feed.get("title"):
            result.state["title"] = parsed.feed.get("title")
        return result

    async def _fetch(self, feed: FeedSource, result: FeedResult) -> bytes | None:
        url = feed.url
        if not url.startswith(("http://", "https://")):
            path = Path(url.removeprefix("file://"))
            try:
                return path.read_bytes()
            except OSError as exc:
                raise FetchError(f"{url}: cannot read file ({exc.strerror})") from exc
        headers = {}
        if result.state.get("etag"):
            headers["If-None-Match"] = str(result.state["etag"])
        if result.state.get("last_modified"):
            headers["If-Modified-Since"] = str(result.state["last_modified"])
        try:
            response = await self.client.get(url, headers=headers)
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__} {exc}".strip()) from exc
        if response.status_code == 304:
            return None
        if response.status_code >= 400:
            raise FetchError(f"{url}: HTTP {response.status_code}")
        if len(response.content) > MAX_FEED_BYTES:
            raise FetchError(f"{url}: feed larger than {MAX_FEED_BYTES} bytes")
        result.state["etag"] = response.headers.get("ETag")
        result.state["last_modified"] = response.headers.get("Last-Modified")
        return response.content


def record_success(state: dict[str, Any], new_items: int) -> bool:
    """Update health after a good poll; True when the feed recovered (log once)."""
    recovered = state.get("state") == "failing"
    state.update(state="ok", failures=0, last_error=None,
                 last_success=datetime.now(UTC).isoformat(),
                 items_total=int(state.get("items_total", 0)) + new_items)
    return recovered


def record_failure(state: dict[str, Any], error: str) -> bool:
    """Update health after a failed poll; True when the feed just started failing."""
    started = state.get("state") != "failing"
    state.update(state="failing", failures=int(state.get("failures", 0)) + 1, last_error=error)
    return started
