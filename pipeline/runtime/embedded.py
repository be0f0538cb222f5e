"""The embedded runtime: every stage in one asyncio process, state and index in SQLite.

    feeds ─poll─▶ raw ─clean (process pool for HTML)─▶ enrich ─▶ one SQLite transaction
                                                              (article + FTS + story + state
                                                               + alert keys) ─▶ deliver alerts

It owns all I/O; the stages it calls are the same objects the Kafka runtime uses, under
the same failure policy (``pipeline.runtime.failures``): a stage that fails on one article
dead-letters that article (its state writes undone) and the ingest goes on.

A running ``run`` reloads alert rules and topics between batches when config/alerts.yaml or
topics.yaml changed, or on SIGHUP (``pipeline.runtime.reload``; an invalid edit is refused).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import os
import signal
import sqlite3
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TextIO

from pipeline import metrics
from pipeline.config.settings import Settings
from pipeline.identity import article_id
from pipeline.models import AlertEvent, DeadLetter, FeedSource, RawArticle
from pipeline.notify.notifier import Notifier
from pipeline.processing.clean.source_junk import SourceJunk, junk_source
from pipeline.processing.stages import Analysed, Stages
from pipeline.processing.tag import TopicRule
from pipeline.runtime.failures import Failed, attempt, attempt_sync
from pipeline.runtime.heap import settle_heap
from pipeline.runtime.reload import ConfigWatch, retarget
from pipeline.sources.feeds import Poller
from pipeline.sources.scheduler import FeedScheduler
from pipeline.storage.sqlite.datadir import disk_full, disk_full_message
from pipeline.storage.sqlite.store import SqliteStore

logger = logging.getLogger(__name__)
POOL_MIN = 16  # smaller batches are cleaned inline (a live poll round is usually small)
BATCH = 200
DISK_FULL_MAX_PAUSE = 30.0  # seconds between tries of a batch while the disk is full
Cleaned = tuple[str, RawArticle, "Analysed | str"]  # (id, raw, result or poison reason)
Timed = list[tuple["Analysed | str", float]]  # a pool chunk: each result, seconds taken

_worker: Stages | None = None


def _init_worker(topics: list[TopicRule]) -> None:
    global _worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    _worker = Stages(topics, [], {})


def _prepare(stages: Stages, raw: RawArticle,
             learned: frozenset[str] = frozenset()) -> Analysed | str:
    """Clean, analyse and tag one raw article, or the reason it is dead-lettered."""
    try:
        return attempt_sync("clean", stages.prepare, raw, learned)
    except Failed as exc:
        return str(exc)


def _prepare_many(items: list[tuple[RawArticle, frozenset[str]]]) -> Timed:
    """Process-pool entry: the stateless stages for a slice of a batch (each raw with the
    junk learned for its source), each result with the seconds it took."""
    assert _worker is not None, "worker not initialised"
    out = []
    for raw, learned in items:
        started = time.perf_counter()
        out.append((_prepare(_worker, raw, learned), time.perf_counter() - started))
    return out


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
    return raw.id or article_id(raw.link, raw.guid, raw.html or raw.text or raw.summary)


class EmbeddedRuntime:
    def __init__(self, settings: Settings, out: TextIO | None = None,
                 poller: Poller | None = None) -> None:
        self.settings = settings
        self.watch = ConfigWatch(settings)
        self.store = SqliteStore(settings.db_path)
        # one article's state writes can be undone when a stage fails on it (savepoint)
        self.state = (self.store.mapping("cluster"), self.store.mapping("alerts"))
        self.stages = self._new_stages()
        self.source_junk = SourceJunk(self.store.mapping("source_junk"))
        self.notifier = Notifier.from_settings(settings, out=out)
        self.poller = poller
        self._scheduler: FeedScheduler | None = None
        self._pool: ProcessPoolExecutor | None = None
        self._resumed = False  # alerts left pending by a killed process are sent
        self._batches = 0  # committed by this runtime (settle_heap)

    def _new_stages(self) -> Stages:
        return Stages(list(self.settings.topics), list(self.settings.rules), *self.state,
                      story_window=timedelta(hours=self.settings.story_window_hours))

    def reload_config(self) -> bool:
        """Take up changed alert rules and topics (validated; see ``ConfigWatch.poll``)."""
        if not self.watch.poll():
            return False
        topics_changed = self.watch.settings.topics != self.settings.topics
        self.settings = self.watch.settings
        clock = self.stages.alerts.clock
        self.stages = self._new_stages()
        self.stages.alerts.clock = clock
        retarget(self.notifier, self.settings)
        if topics_changed and self._pool is not None:  # its workers tag with the old topics
            self._pool.shutdown(wait=False)
            self._pool = None
        return True

    async def close(self) -> None:
        gc.unfreeze()  # what settle_heap froze is collectable again
        if self._pool:
            self._pool.shutdown(cancel_futures=True)
        if self.poller:
            await self.poller.close()
        await self.notifier.aclose()
        self.store.close()

    # -- processing ----------------------------------------------------------------------
    async def process(self, raws: Iterable[RawArticle]) -> Stats:
        """Clean batch N+1 in the process pool while batch N is enriched and committed
        (so a source's junk learned from batch N applies from batch N+2)."""
        await self.deliver_pending()
        stats = Stats()
        batches = _chunks(raws, BATCH)
        pending = self._start_clean(next(batches, []), stats)
        while True:
            cleaned = await pending
            following = next(batches, None)
            if following is not None:
                pending = self._start_clean(following, stats)
            stats.add(await self._commit_batch(cleaned))
            self._batches += 1
            settle_heap(self._batches)
            if following is None:
                return stats

    def _start_clean(self, raws: list[RawArticle],
                     stats: Stats) -> asyncio.Future[list[Cleaned]]:
        """Start cleaning a batch. A larger one is handed to the process pool here, before
        the caller commits the batch before it: a task would only reach the pool once that
        commit (CPU-bound, it never gives the event loop back) had ended."""
        fresh: dict[str, RawArticle] = {}
        for raw in raws:
            rid = raw_id(raw)
            if rid in fresh or self.store.has_article(rid):
                stats.skipped += 1
            else:
                fresh[rid] = raw
        items = list(fresh.items())
        return asyncio.ensure_future(self._clean_all(items, self._submit(items)))

    async def _commit_batch(self, cleaned: list[Cleaned]) -> Stats:
        """Commit (and deliver) a batch; while the disk is full (SQLITE_FULL) the batch is
        rolled back whole, said in the log, and tried again (``run`` and ``ingest`` go on by
        themselves once there is space)."""
        pause = 1.0
        while True:
            try:
                return await self._commit_once(cleaned)
            except sqlite3.OperationalError as exc:
                if not disk_full(exc):
                    raise
                logger.error("%s; retrying in %.0fs", disk_full_message(self.settings.db_path),
                             pause)
            for state in self.state:  # the store's rollback read the committed state again
                state.savepoint()
            self._fresh_stages()
            await asyncio.sleep(pause)
            pause = min(DISK_FULL_MAX_PAUSE, pause * 2)

    async def _commit_once(self, cleaned: list[Cleaned]) -> Stats:
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
                    fired += await self._assign_one(rid, result, stats)
                    self.source_junk.observe(junk_source(raw), result.junk_candidates,
                                             result.signature)
            started = time.perf_counter()
            self.store.commit()
            metrics.stage_seconds("commit", time.perf_counter() - started)
        except BaseException:
            self.store.rollback()
            raise
        stats.alerts += len(fired)
        metrics.count("index", into=len(cleaned), out=stats.processed)
        await self.deliver(fired)
        return stats

    async def _assign_one(self, rid: str, analysed: Analysed,
                          stats: Stats) -> list[AlertEvent]:
        for state in self.state:
            state.savepoint()
        started = time.perf_counter()
        try:
            out = await attempt("enrich", self.stages.assign, analysed)
            metrics.stage_seconds("assign", time.perf_counter() - started)
        except Failed as exc:
            self._undo_article()
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

    async def reassign(self, analysed: list[Analysed]) -> Stats:
        """Cleaned and tagged articles from story assignment on, committed as one batch
        (replayed ``enrich`` dead letters: ``pipeline.runtime.replay``)."""
        stats, fired = Stats(), []
        self.store.begin()
        try:
            for one in analysed:
                if self.store.has_article(one.article.id):
                    stats.skipped += 1
                else:
                    fired += await self._assign_one(one.article.id, one, stats)
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise
        stats.alerts += len(fired)
        await self.deliver(fired)
        return stats

    def _undo_article(self) -> None:
        """Undo a failed article's state writes; the stages' caches saw them: start afresh."""
        for state in self.state:
            state.rollback()
        self._fresh_stages()

    def _fresh_stages(self) -> None:
        """New stages on the same state (their caches may hold writes undone since)."""
        clock = self.stages.alerts.clock
        self.stages = self._new_stages()
        self.stages.alerts.clock = clock

    def _dead(self, stats: Stats, stage: str, error: str, payload: str, key: str) -> None:
        logger.warning("dead-letter stage=%s key=%s error=%s", stage, key, error)
        self.store.put_dead(DeadLetter(stage=stage, error=error, payload=payload), key)
        stats.dead += 1
        metrics.error(stage, error)

    def _submit(self, items: list[tuple[str, RawArticle]]) -> list[asyncio.Future[Timed]] | None:
        """A larger batch in chunks on the process pool (both cores), submitted now; None for
        a smaller one, cleaned in the event loop."""
        if len(items) < POOL_MIN or (os.cpu_count() or 1) < 2:
            return None
        raws = [(raw, self.source_junk.known(junk_source(raw))) for _, raw in items]
        workers = os.cpu_count() or 1
        self._pool = self._pool or ProcessPoolExecutor(
            max_workers=workers, initializer=_init_worker,
            initargs=(list(self.settings.topics),))
        loop = asyncio.get_running_loop()
        size = max(1, len(raws) // (2 * workers))
        return [loop.run_in_executor(self._pool, _prepare_many, raws[i:i + size])
                for i in range(0, len(raws), size)]

    async def _clean_all(self, items: list[tuple[str, RawArticle]],
                         chunks: list[asyncio.Future[Timed]] | None) -> list[Cleaned]:
        """The stateless stages' results: the pool's ``chunks``, or cleaned here."""
        if chunks is not None:
            timed = [r for chunk in await asyncio.gather(*chunks) for r in chunk]
        else:
            timed = []
            for _, raw in items:
                learned = self.source_junk.known(junk_source(raw))
                started = time.perf_counter()
                timed.append((await self._prepare(raw, learned), time.perf_counter() - started))
        for _, seconds in timed:
            metrics.stage_seconds("prepare", seconds)
        results = [result for result, _ in timed]
        metrics.count("clean", into=len(items), out=sum(not isinstance(r, str) for r in results))
        return [(rid, raw, result) for (rid, raw), result in zip(items, results, strict=True)]

    async def _prepare(self, raw: RawArticle, learned: frozenset[str]) -> Analysed | str:
        """``_prepare`` in the event loop: a retryable failure waits without blocking it."""
        try:
            return await attempt("clean", self.stages.prepare, raw, learned)
        except Failed as exc:
            return str(exc)

    async def deliver_pending(self) -> None:
        """Once per process: alerts committed but not sent when the last one was killed."""
        if not self._resumed:
            self._resumed = True
            await self.deliver(self.store.pending_alerts())

    async def deliver(self, events: list[AlertEvent]) -> None:
        """Send alerts already committed as pending, concurrently per (rule, channel); record
        delivered, or failed and dead-lettered with the reason (``newswire alerts log``)."""
        for event in await self.notifier.deliver_all(events):
            self.store.set_alert_state(event)
            metrics.ALERT_DELIVERIES.labels(event.channel, event.state).inc()
            if event.state == "failed":
                key = f"alert:{event.rule}:{event.story_id}:{event.event}:{event.channel}"
                self.store.put_dead(DeadLetter(stage="alert", error=event.error or "failed",
                                               payload=event.model_dump_json()), key)

    async def flush_digests(self) -> int:
        """Digest rules whose period has ended: one alert each, committed, then delivered."""
        if not any(rule.mode == "digest" for rule in self.settings.rules):
            return 0
        self.store.begin()
        try:
            events = [e for e in self.stages.alerts.due_digests() if self.store.put_alert(e)]
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise
        await self.deliver(events)
        return len(events)

    # -- polling -------------------------------------------------------------------------
    def scheduler(self) -> FeedScheduler:
        """The feed schedule and health (pipeline.sources.scheduler), state in SQLite."""
        if self._scheduler is None:
            self.poller = self.poller or Poller.from_settings(self.settings)
            self._scheduler = FeedScheduler(
                self.poller, self.store, concurrency=self.settings.poll_concurrency,
                alert_channel=self.settings.feed_alerts, notify=self.notifier.deliver)
        return self._scheduler

    async def poll_round(self, stop: asyncio.Event | None = None, force: bool = False) -> Stats:
        """Poll the feeds that are due (every enabled feed with ``force``); each feed's new
        items are processed as its answer arrives (one writer, batches commit whole)."""
        stats = Stats()

        async def sink(feed: FeedSource, raws: list[RawArticle],
                       rejected: list[tuple[str, str]]) -> int:
            for entry, reason in rejected:
                key = "poll:" + hashlib.sha1(f"{entry}\x1f{reason}".encode()).hexdigest()[:20]
                self.store.put_dead(DeadLetter(stage="poll", error=reason, payload=entry,
                                               source=feed.url), key)
            self.reload_config()  # between batches: rules edited while polling apply now
            batch_stats = await self.process(raws) if raws else Stats()
            batch_stats.dead += len(rejected)
            stats.add(batch_stats)
            return batch_stats.processed

        await self.scheduler().run_round(self.settings.feeds, sink, force=force, stop=stop)
        return stats

    async def run(self, once: bool = False, stop: asyncio.Event | None = None) -> Stats:
        """Poll each feed on its own schedule until ``stop`` is set; ``once``: one round of
        every enabled feed (a manual refresh), then return."""
        stop = stop or asyncio.Event()
        await self.deliver_pending()
        self.watch.on_sighup()
        total = Stats()
        while not stop.is_set():
            self.reload_config()
            round_stats = await self.poll_round(stop, force=once)
            round_stats.alerts += await self.flush_digests()
            total.add(round_stats)
            logger.info("round processed=%d skipped=%d dead=%d alerts=%d",
                        round_stats.processed, round_stats.skipped, round_stats.dead,
                        round_stats.alerts)
            if once:
                break
            wait = self.scheduler().sleep_for(self.settings.feeds, self.settings.poll_interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=max(1.0, wait))
        return total
