"""Which feeds to poll now, and what to do with each answer; shared by both runtimes.

    due feeds ──▶ N workers: Poller.poll (concurrently; per-host limits in the Fetcher)
              ──▶ one consumer, feed by feed: identity (seen.resolve) → full text → sink
                  (process or send to Kafka) → health → next poll time → store → alert

Feed ownership: with ``shard=(i, n)`` a scheduler owns the feeds whose URL hashes to i
modulo n, so n poller processes share a feed list without polling any feed twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipeline.errors import FetchError
from pipeline.models import AlertEvent, FeedSource, RawArticle
from pipeline.sources.errors import FeedError
from pipeline.sources.feeds import FeedResult, Poller
from pipeline.sources.health import alert_due, feed_alert, record_failure, record_success
from pipeline.sources.schedule import is_due, plan_failure, plan_success, seconds_until_due
from pipeline.sources.seen import SeenStore, remember, resolve

logger = logging.getLogger(__name__)
Sink = Callable[[FeedSource, list[RawArticle], list[tuple[str, str]]], Awaitable[int]]
Notify = Callable[[AlertEvent], Awaitable[None]]
Outcome = FeedResult | FetchError


class FeedStore(SeenStore, Protocol):
    def feed_states(self) -> dict[str, dict[str, Any]]: ...
    def put_feed_state(self, url: str, state: dict[str, Any]) -> None: ...


@dataclass
class RoundReport:
    polled: int = 0
    not_modified: int = 0
    failed: int = 0
    new_items: int = 0
    errors: Counter[str] = field(default_factory=Counter)


def owner(url: str, shards: int) -> int:
    return int(hashlib.sha1(url.encode()).hexdigest()[:8], 16) % max(1, shards)


class FeedScheduler:
    def __init__(self, poller: Poller, store: FeedStore, *, concurrency: int = 32,
                 shard: tuple[int, int] = (0, 1), alert_channel: str | None = None,
                 notify: Notify | None = None) -> None:
        self.poller = poller
        self.store = store
        self.concurrency = max(1, concurrency)
        self.shard = shard
        self.alert_channel = alert_channel
        self.notify = notify
        self.states: dict[str, dict[str, Any]] = {
            url: dict(st) for url, st in store.feed_states().items()}

    def owned(self, feeds: Iterable[FeedSource]) -> list[FeedSource]:
        index, count = self.shard
        return [f for f in feeds if f.enabled and (count <= 1 or owner(f.url, count) == index)]

    def due(self, feeds: Iterable[FeedSource], now: float, force: bool = False) -> list[FeedSource]:
        mine = self.owned(feeds)
        if force:
            return mine
        ready = [f for f in mine if is_due(self.states.get(f.url, {}), now)]
        return sorted(ready, key=lambda f: float(self.states.get(f.url, {}).get("next_poll") or 0))

    def sleep_for(self, feeds: Iterable[FeedSource], ceiling: float) -> float:
        states = [self.states.get(f.url, {}) for f in self.owned(feeds)]
        return seconds_until_due(states, time.time(), ceiling)

    async def run_round(self, feeds: Iterable[FeedSource], sink: Sink, *, force: bool = False,
                        stop: asyncio.Event | None = None) -> RoundReport:
        """Poll the due feeds (all owned ones with ``force``); answers handled one by one."""
        report = RoundReport()
        todo = iter(self.due(feeds, time.time(), force))
        queue: asyncio.Queue[tuple[FeedSource, Outcome] | None] = asyncio.Queue(
            maxsize=self.concurrency * 2)
        workers = [asyncio.create_task(self._worker(todo, queue, stop))
                   for _ in range(self.concurrency)]
        closer = asyncio.create_task(self._close_when_done(workers, queue))
        try:
            while (item := await queue.get()) is not None:
                await self.handle(item[0], item[1], sink, report)
                if stop is not None and stop.is_set():
                    break
        finally:
            for task in (*workers, closer):
                task.cancel()
        return report

    async def _worker(self, todo: Iterator[FeedSource],
                      queue: asyncio.Queue[tuple[FeedSource, Outcome] | None],
                      stop: asyncio.Event | None) -> None:
        for feed in todo:
            if stop is not None and stop.is_set():
                return
            outcome: Outcome
            try:
                outcome = await self.poller.poll(feed, self.states.get(feed.url, {}))
            except FetchError as exc:
                outcome = exc
            except Exception as exc:  # noqa: BLE001 - a bug on one feed must not stop the rest
                logger.exception("feed poll crashed url=%s", feed.url)
                outcome = FeedError(f"internal error: {type(exc).__name__}: {exc}", kind="bug")
            await queue.put((feed, outcome))

    @staticmethod
    async def _close_when_done(workers: list[asyncio.Task[None]],
                               queue: asyncio.Queue[tuple[FeedSource, Outcome] | None]) -> None:
        await asyncio.gather(*workers, return_exceptions=True)
        await queue.put(None)

    async def handle(self, feed: FeedSource, outcome: Outcome, sink: Sink,
                     report: RoundReport) -> None:
        now = time.time()
        bounds = self.poller.bounds
        if isinstance(outcome, FetchError):
            state = self.states.setdefault(feed.url, {})
            kind = getattr(outcome, "kind", "network")
            if record_failure(state, str(outcome), kind=kind,
                              status=getattr(outcome, "status", None)):
                logger.warning("feed failing url=%s error=%s", feed.url, outcome)
            plan_failure(state, now, bounds, wait=getattr(outcome, "retry_after", None))
            report.failed += 1
            report.errors[kind] += 1
        else:
            state = outcome.state
            resolution = resolve(self.store, feed.url, outcome.articles)
            if feed.fetch_full_text and resolution.fresh:
                await self.poller.full_text(feed, resolution.fresh)
            ingested = 0
            if resolution.fresh or outcome.rejected:
                ingested = await sink(feed, resolution.fresh, outcome.rejected)
            remember(self.store, resolution)
            if record_success(state, ingested, warning=outcome.warning):
                logger.warning("feed recovered url=%s", feed.url)
            plan_success(state, now, bounds, new=len(resolution.fresh),
                         total=len(outcome.articles), hint=outcome.hint)
            report.polled += 1
            report.not_modified += outcome.not_modified
            report.new_items += ingested
            self.states[feed.url] = state
        self.store.put_feed_state(feed.url, state)
        await self._alert(feed, state)

    async def _alert(self, feed: FeedSource, state: dict[str, Any]) -> None:
        shown = alert_due(state)
        if shown is None or not self.alert_channel or self.notify is None:
            return
        self.store.put_feed_state(feed.url, state)  # "alerted" once per episode
        try:
            await self.notify(feed_alert(feed.url, feed.name or state.get("title"), shown, state,
                                         self.alert_channel))
        except Exception as exc:  # noqa: BLE001 - a channel failure is logged, not fatal
            logger.warning("feed alert not delivered url=%s error=%s", feed.url, exc)
