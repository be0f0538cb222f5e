"""The embedded runtime: every stage in one asyncio process, state and index in SQLite.

    feeds ─poll─▶ raw ─clean (process pool for HTML)─▶ enrich ─▶ one SQLite transaction
                                                              (article + FTS + story + state
                                                               + alert keys) ─▶ deliver alerts

It owns all I/O; the stages it calls are the same objects the Kafka runtime uses.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TextIO

from pipeline.config import Settings
from pipeline.errors import FetchError, PoisonInputError
from pipeline.identity import article_id
from pipeline.models import AlertEvent, DeadLetter, FeedSource, RawArticle
from pipeline.processing.source_junk import SourceJunk, junk_source
from pipeline.processing.stages import Analysed, Stages
from pipeline.processing.tag import TopicRule
from pipeline.sinks.notify import Notifier
from pipeline.sources.feeds import FeedResult, Poller, record_failure, record_success
from pipeline.storage.sqlite_store import SqliteStore

logger = logging.getLogger(__name__)
POOL_MIN = 16  # smaller batches are cleaned inline (a live poll round is usually small)
BATCH = 200
Cleaned = tuple[str, RawArticle, "Analysed | str"]  # (id, raw, result or poison reason)

_worker: Stages | None = None


def _init_worker(topics: list[TopicRule]) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _worker = Stages(topics, [], {})


def _prepare(stages: Stages, raw: RawArticle,
             learned: frozenset[str] = frozenset()) -> Analysed | str:
    """Clean, analyse and tag one raw article, or the reason it is poison."""
    try:
        return stages.prepare(raw, learned)
    except PoisonInputError as exc:
        return f"{type(exc).__name__}: {exc}"


def _prepare_many(items: list[tuple[RawArticle, frozenset[str]]]) -> list[Analysed | str]:
    """Process-pool entry: the stateless stages for a slice of a batch (each raw with the
    junk learned for its source)."""
    assert _worker is not None, "worker not initialised"
    return [_prepare(_worker, raw, learned) for raw, learned in items]


def _chunks(items: Iterable[RawArticle], size: int) -> Iterator[list[RawArticle]]:
    batch: list[RawArticle] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass
class Stats:
    processed: int = 0
    skipped: int = 0
    dead: int = 0
    alerts: int = 0
    new_stories: set[str] = field(default_factory=set)

    def add(self, other: Stats) -> None:
        self.processed += other.processed
        self.skipped += other.skipped
        self.dead += other.dead
        self.alerts += other.alerts
        self.new_stories |= other.new_stories


def raw_id(raw: RawArticle) -> str:
    return raw.id or article_id(str(raw.url), raw.guid)


class EmbeddedRuntime:
    def __init__(self, settings: Settings, out: TextIO | None = None,
                 poller: Poller | None = None) -> None:
        self.settings = settings
        self.store = SqliteStore(settings.db_path)
        self.stages = Stages(list(settings.topics), list(settings.rules),
                             self.store.mapping("cluster"), self.store.mapping("alerts"))
        self.source_junk = SourceJunk(self.store.mapping("source_junk"))
        self.notifier = Notifier(settings.data_dir, out=out)
        self.poller = poller
        self._pool: ProcessPoolExecutor | None = None

    async def close(self) -> None:
        if self._pool:
            self._pool.shutdown(cancel_futures=True)
        if self.poller:
            await self.poller.close()
        self.store.close()

    # -- processing ----------------------------------------------------------------------
    async def process(self, raws: Iterable[RawArticle]) -> Stats:
        """Clean batch N+1 in the process pool while batch N is enriched and committed."""
        stats = Stats()
        batches = _chunks(raws, BATCH)
        pending = self._start_clean(next(batches, []), stats)
        while True:
            cleaned = await pending
            following = next(batches, None)
            if following is not None:
                pending = self._start_clean(following, stats)
            stats.add(await self._commit_batch(cleaned))
            if following is None:
                return stats

    def _start_clean(self, raws: list[RawArticle],
                     stats: Stats) -> asyncio.Future[list[Cleaned]]:
        fresh: dict[str, RawArticle] = {}
        for raw in raws:
            rid = raw_id(raw)
            if rid in fresh or self.store.has_article(rid):
                stats.skipped += 1
            else:
                fresh[rid] = raw
        return asyncio.ensure_future(self._clean_all(list(fresh.items())))

    async def _commit_batch(self, cleaned: list[Cleaned]) -> Stats:
        stats = Stats()
        fired: list[AlertEvent] = []
        self.store.begin()
        try:
            for rid, raw, result in cleaned:
                if self.store.has_article(rid):  # arrived twice in consecutive batches
                    stats.skipped += 1
                elif isinstance(result, str):
                    self._dead(stats, "clean", result, raw.model_dump_json(), rid)
                else:
                    fired += self._assign_one(rid, result, stats)
                    self.source_junk.observe(junk_source(raw), result.junk_candidates,
                                             result.signature)
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise
        stats.alerts += len(fired)
        await self.deliver(fired)
        return stats

    def _assign_one(self, rid: str, analysed: Analysed, stats: Stats) -> list[AlertEvent]:
        try:
            out = self.stages.assign(analysed)
        except PoisonInputError as exc:
            self._dead(stats, "enrich", str(exc), analysed.article.model_dump_json(), rid)
            return []
        self.store.put_article(out.article, out.document)
        if out.merged_story_ids:
            self.store.merge_stories(out.merged_story_ids, out.story.id)
        self.store.put_story(out.story)
        stats.processed += 1
        if out.article.story_is_new:
            stats.new_stories.add(out.story.id)
        return [e for e in out.alerts if self.store.put_alert(e)]

    def _dead(self, stats: Stats, stage: str, error: str, payload: str, key: str) -> None:
        logger.warning("dead-letter stage=%s key=%s error=%s", stage, key, error)
        self.store.put_dead(DeadLetter(stage=stage, error=error, payload=payload), key)
        stats.dead += 1

    async def _clean_all(self, items: list[tuple[str, RawArticle]]) -> list[Cleaned]:
        """The stateless stages; in the process pool (both cores) for larger batches."""
        raws = [(raw, self.source_junk.known(junk_source(raw))) for _, raw in items]
        if len(items) >= POOL_MIN and (os.cpu_count() or 1) > 1:
            workers = os.cpu_count() or 1
            self._pool = self._pool or ProcessPoolExecutor(
                max_workers=workers, initializer=_init_worker,
                initargs=(list(self.settings.topics),))
            loop = asyncio.get_running_loop()
            size = max(1, len(raws) // (2 * workers))
            futures = [loop.run_in_executor(self._pool, _prepare_many, raws[i:i + size])
                       for i in range(0, len(raws), size)]
            results = [r for chunk in await asyncio.gather(*futures) for r in chunk]
        else:
            results = [_prepare(self.stages, raw, learned) for raw, learned in raws]
        return [(rid, raw, result) for (rid, raw), result in zip(items, results, strict=True)]

    async def deliver(self, events: list[AlertEvent]) -> None:
        """Send alerts already committed as pending; record delivered / failed."""
        for event in events:
            try:
                await self.notifier.deliver(event)
                event.state, event.error = "delivered", None
            except Exception as exc:  # noqa: BLE001 - any channel failure is recorded
                event.state, event.error = "failed", f"{type(exc).__name__}: {exc}"
                logger.warning("alert delivery failed rule=%s channel=%s error=%s",
                               event.rule, event.channel, event.error)
            self.store.set_alert_state(event)

    # -- polling -------------------------------------------------------------------------
    async def poll_round(self, stop: asyncio.Event | None = None) -> Stats:
        """Fetch every enabled feed concurrently, then process their items feed by feed."""
        poller = self.poller = self.poller or Poller(timeout=self.settings.http_timeout,
                                                     user_agent=self.settings.user_agent)
        feeds = [f for f in self.settings.feeds if f.enabled]
        states = [self.store.feed_state(f.url) for f in feeds]
        limit = asyncio.Semaphore(8)

        async def fetch(feed: FeedSource, state: dict[str, Any]) -> FeedResult | FetchError:
            async with limit:
                try:
                    return await poller.poll(feed, state)
                except FetchError as exc:
                    return exc

        results = await asyncio.gather(*(fetch(f, s) for f, s in zip(feeds, states, strict=True)))
        stats = Stats()
        for feed, state, result in zip(feeds, states, results, strict=True):
            if stop is not None and stop.is_set():
                break  # Ctrl-C: every committed batch is whole; stop between feeds
            if isinstance(result, FetchError):
                if record_failure(state, str(result)):
                    logger.warning("feed failing url=%s error=%s", feed.url, result)
                self.store.put_feed_state(feed.url, state)
                continue
            for entry, reason in result.rejected:
                self.store.put_dead(DeadLetter(stage="poll", error=reason, payload=entry))
                stats.dead += 1
            batch_stats = await self.process(result.articles)
            stats.add(batch_stats)
            if record_success(result.state, batch_stats.processed):
                logger.warning("feed recovered url=%s", feed.url)
            self.store.put_feed_state(feed.url, result.state)
        return stats

    async def run(self, once: bool = False, stop: asyncio.Event | None = None) -> Stats:
        """Poll every feed in rounds until ``stop`` is set (or one round with ``once``)."""
        stop = stop or asyncio.Event()
        await self.deliver(self.store.pending_alerts())  # written but not sent last time
        total = Stats()
        while not stop.is_set():
            round_stats = await self.poll_round(stop)
            total.add(round_stats)
            logger.info("round processed=%d skipped=%d dead=%d alerts=%d",
                        round_stats.processed, round_stats.skipped, round_stats.dead,
                        round_stats.alerts)
            if once:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.settings.poll_interval)
        return total
