"""Feed polling: RSS/Atom/JSON Feed over polite HTTP (conditional GET) or local files.

    Poller.poll(feed, state) ──▶ FeedResult (articles, rejected entries, new state, hints)
                                 or FeedError (retryable; kind, status, Retry-After)

State per feed (ETag, Last-Modified, moved_to, health, schedule) is a plain dict the
caller persists; pipeline.sources.scheduler decides which feeds are due and applies
health (health.py) and the next poll time (schedule.py) after each poll.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from pipeline.models import FeedSource, RawArticle
from pipeline.sources.errors import FeedError
from pipeline.sources.fulltext import fill_full_text
from pipeline.sources.health import observe_items, record_failure, record_success
from pipeline.sources.http import Fetcher, HttpPolicy
from pipeline.sources.parse import entries_to_articles, entry_time, parse_feed
from pipeline.sources.safety import AddressGuard
from pipeline.sources.schedule import Bounds, feed_hint, server_hint

if TYPE_CHECKING:
    from pipeline.config.settings import Settings

__all__ = ["FeedResult", "Poller", "record_failure", "record_success"]


@dataclass
class FeedResult:
    """One poll of one feed: new raw articles, entries that could not be read, new state."""

    feed: FeedSource
    articles: list[RawArticle] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)  # (entry repr, reason)
    state: dict[str, Any] = field(default_factory=dict)
    not_modified: bool = False
    warning: str | None = None  # not well-formed, entries read anyway
    hint: float | None = None  # seconds the server or the feed asks us to wait


class Poller:
    """Polls feeds; HTTP through an injectable httpx client (tests pass a MockTransport)."""

    def __init__(self, client: httpx.AsyncClient | None = None, timeout: float = 20.0,
                 user_agent: str = "newswire", *, policy: HttpPolicy | None = None,
                 guard: AddressGuard | None = None, bounds: Bounds | None = None) -> None:
        policy = policy or HttpPolicy(timeout=timeout, user_agent=user_agent)
        self.fetcher = Fetcher(policy, client, guard)
        self.bounds = bounds or Bounds()

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Poller:
        policy = HttpPolicy(timeout=settings.http_timeout, max_bytes=settings.feed_max_bytes,
                            host_concurrency=settings.host_concurrency,
                            host_min_delay=settings.host_min_delay,
                            user_agent=settings.user_agent)
        bounds = Bounds(default_interval=settings.poll_interval,
                        min_interval=settings.feed_min_interval,
                        max_interval=settings.feed_max_interval,
                        max_backoff=settings.feed_max_backoff)
        kwargs.setdefault("guard", AddressGuard(settings.allow_private_redirects))
        return cls(policy=policy, bounds=bounds, **kwargs)

    async def close(self) -> None:
        await self.fetcher.close()

    async def poll(self, feed: FeedSource, state: dict[str, Any]) -> FeedResult:
        """Fetch and parse one feed. Raises FeedError (a retryable FetchError) on failure."""
        result = FeedResult(feed=feed, state=dict(state))
        fetched = await self._fetch(feed, result)
        if fetched is None:
            result.not_modified = True
            return result
        content, url, headers = fetched
        parsed = await asyncio.to_thread(parse_feed, content, url, headers)  # loop stays free
        for item in entries_to_articles(parsed, feed):
            if isinstance(item, RawArticle):
                result.articles.append(item)
            else:
                result.rejected.append(item)
        result.warning = parsed.warning
        hints = [h for h in (result.hint, feed_hint(parsed.feed)) if h]
        result.hint = max(hints) if hints else None
        observe_items(result.state, (entry_time(e) for e in parsed.entries))
        if parsed.feed.get("title"):
            result.state["title"] = parsed.feed.get("title")
        return result

    async def full_text(self, feed: FeedSource, raws: list[RawArticle]) -> int:
        return await fill_full_text(self.fetcher, feed, raws)

    async def _fetch(self, feed: FeedSource,
                     result: FeedResult) -> tuple[bytes, str, dict[str, str]] | None:
        if not feed.url.startswith(("http://", "https://")):
            return _read_file(feed.url, result.state)
        state = result.state
        url = str(state.get("moved_to") or feed.url)
        headers = dict(feed.headers or {})
        if feed.user_agent:
            headers["User-Agent"] = feed.user_agent
        if state.get("etag"):
            headers["If-None-Match"] = str(state["etag"])
        if state.get("last_modified"):
            headers["If-Modified-Since"] = str(state["last_modified"])
        fetched = await self.fetcher.get(url, headers=headers, proxy=feed.proxy)
        if fetched.moved_to:
            state["moved_to"] = fetched.moved_to
        result.hint = server_hint(fetched.headers, time.time())
        if fetched.status == 304:
            return None
        state["etag"] = fetched.headers.get("etag")
        state["last_modified"] = fetched.headers.get("last-modified")
        return fetched.content, fetched.url, dict(fetched.headers)


FILE_TYPES = {".json": "application/feed+json"}  # else XML: what a server would declare


def _read_file(url: str, state: dict[str, Any]) -> tuple[bytes, str, dict[str, str]] | None:
    """A local feed; unchanged since the last poll (size and mtime) reads as not modified."""
    path = Path(url.removeprefix("file://"))
    try:
        stat = path.stat()
        signature = f"{stat.st_size}:{stat.st_mtime_ns}"
        if state.get("file_signature") == signature:
            return None
        content = path.read_bytes()
    except OSError as exc:
        raise FeedError(f"cannot read file ({exc.strerror})", kind="file") from exc
    state["file_signature"] = signature
    kind = FILE_TYPES.get(path.suffix.lower(), "application/xml")
    return content, path.resolve().as_uri(), {"content-type": kind}
