"""Thin Faust agents around the pure stages; the runtime owns every I/O.

    raw ──clean──▶ clean ──enrich (1 partition, tables)──▶ enriched ──index──▶ Elasticsearch
                                        └──────────────▶ alerts ──deliver──▶ channels + ES log
    any poison input or stage bug ──▶ dead (with the reason; pipeline.runtime.failures)
    a record too large for Kafka even compressed ──▶ dead (its size and source; ``limits``)

Every agent works in batches (``stream.take_events``): one Kafka round trip, one journal,
one bulk request per batch. Roles split them over processes so both cores work:
``stateless`` (clean, index, deliver: scale out with partitions and processes) and
``stateful`` (the story agent and its tables); ``all`` runs every agent in one process.

Digest rules only queue stories while matching; the digests whose period has ended
(``AlertMatcher.due_digests``) go to the alerts topic like any alert, at the end of every
batch and, on an idle stream, from a timer (every ``Batching.digest_tick`` seconds) in the
worker that holds the story state. One lock keeps the two from touching state together.

At-least-once: a batch is acknowledged (its offsets committed) only after what it produced
has been accepted downstream. The story agent's state changes per batch are atomic
(``pipeline.runtime.kafka.state``); it marks articles ``seen`` and alert keys fired only once
Kafka has the batch's enriched articles and alerts, so a crash replays rather than loses,
and the sinks are idempotent, so a replay changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from faust.types import TP, EventT, StreamT
from pydantic import BaseModel

from pipeline import metrics
from pipeline.models import AlertEvent, DeadLetter
from pipeline.notify.notifier import Notifier
from pipeline.processing.stages import Enriched, Stages
from pipeline.runtime.failures import Failed, attempt
from pipeline.runtime.heap import settle_heap
from pipeline.runtime.kafka.changelog import BulkTable, ChangelogWriter
from pipeline.runtime.kafka.codec import Undecodable
from pipeline.runtime.kafka.faust_compat import tables
from pipeline.runtime.kafka.faust_compat.streams import hold
from pipeline.runtime.kafka.limits import clip, oversize, source_of, summary, too_large
from pipeline.runtime.kafka.reindex import reindex_enriched
from pipeline.runtime.kafka.state import JournaledState, PendingWrites
from pipeline.runtime.kafka.topics import AnalysedEvent, EnrichedEvent, Pipeline, Role
from pipeline.storage.dead import reason_class
from pipeline.storage.elasticsearch.dead import index_dead
from pipeline.storage.elasticsearch.sink import ElasticsearchSink
from pipeline.storage.elasticsearch.store import alert_id

logger = logging.getLogger(__name__)
DELIVERIES_IN_FLIGHT = 16  # alert batches delivered side by side
STORY_BATCH_FACTOR = 5  # the story agent's batches: up to this many times ``Batching.size``
StagesFactory = Callable[[MutableMapping[str, Any], MutableMapping[str, Any]], Stages]
Refresh = Callable[[], int]  # reloads changed rules/topics; returns the config generation
Dead = Callable[[str, "str | None", str, str], Awaitable[None]]


@dataclass(frozen=True)
class Batching:
    """Up to ``size`` events per batch, waiting at most ``within`` seconds to fill it."""

    size: int = 200
    within: float = 0.2
    digest_tick: float = 30.0  # seconds between checks for due digests on an idle stream


async def batches(stream: StreamT, batching: Batching) -> AsyncIterator[list[EventT]]:
    """The stream's events in batches, each acknowledged only once the loop body is done.

    Faust's ``take_events`` acknowledges a batch in a ``finally``, so a body that raised or
    was cancelled (SIGTERM, a rebalance) would see its batch committed unprocessed. Holding
    one more reference per event until the body returns keeps such a batch uncommitted:
    it is read again after a restart instead of being lost.
    """
    async for events in stream.take_events(batching.size, within=batching.within):  # type: ignore[attr-defined]
        for event in events:
            hold(event)
        yield events
        for event in events:  # reached only when the body finished the batch
            await stream.ack(event)


def offset_ranges(events: list[EventT]) -> str:
    """Where a batch came from, for the log: "0:12..40,2:7..9" (partition: first..last)."""
    spans: dict[int, tuple[int, int]] = {}
    for event in events:
        partition, offset = event.message.partition, event.message.offset
        low, high = spans.get(partition, (offset, offset))
        spans[partition] = (min(low, offset), max(high, offset))
    return ",".join(f"{p}:{lo}..{hi}" for p, (lo, hi) in sorted(spans.items()))


def register_agents(pipeline: Pipeline, make_stages: StagesFactory, sink: ElasticsearchSink,
                    notifier: Notifier, *, role: Role = "all",
                    batching: Batching = Batching(), refresh: Refresh = lambda: 0) -> None:
    """Add the agents of ``role`` (and the story agent's tables) to the pipeline's app.

    ``refresh`` is called before every batch; when the generation it returns changes (alert
    rules or topics reloaded), the clean and story agents rebuild their stages."""
    topics = pipeline.topics

    async def dead(stage: str, key: str | None, error: str, payload: str) -> None:
        logger.warning("dead-letter stage=%s key=%s error=%s", stage, key, error)
        letter = DeadLetter(stage=stage, error=error, payload=payload, key=key)
        letter = letter.model_copy(update={"payload": clip(payload), "source": letter.origin()})
        await topics["dead"].send(key=key, value=letter)

    if role in ("all", "stateless"):
        _clean_agent(pipeline, make_stages, dead, batching, refresh)
        _index_agent(pipeline, sink, dead, batching)
        _deliver_agent(pipeline, sink, notifier, dead)
        _dead_agent(pipeline, sink, batching)
    if role in ("all", "stateful"):
        _story_agent(pipeline, StoryBatch(pipeline, make_stages, dead, refresh), batching)


def _clean_agent(pipeline: Pipeline, make_stages: StagesFactory, dead: Dead,
                 batching: Batching, refresh: Refresh) -> None:
    topics = pipeline.topics

    @pipeline.app.agent(topics["raw"], name=f"{pipeline.config.prefix}.clean")
    async def clean(stream: StreamT) -> None:
        cleaner, generation = make_stages({}, {}), refresh()
        async for events in batches(stream, batching):
            if refresh() != generation:  # topics reloaded: tag with the new ones
                cleaner, generation = make_stages({}, {}), refresh()
            sent = []
            for event in events:
                key, raw = _key(event), cast(Any, event.value)
                if isinstance(raw, Undecodable):
                    await dead("decode", key, raw.error, raw.text)
                    continue
                started = time.perf_counter()
                try:
                    article = await attempt("clean", cleaner.clean, raw)
                    analysed = await attempt("analyse", cleaner.analyse, article)
                    metrics.stage_seconds("prepare", time.perf_counter() - started)
                except Failed as exc:
                    await dead("clean", key, str(exc), raw.model_dump_json())
                    continue
                value = await fitting(AnalysedEvent.of(analysed), "clean", dead)
                if value is not None:
                    sent.append(await topics["clean"].send(key=article.id, value=value))
            await asyncio.gather(*sent)  # Kafka has the batch: now it may be acknowledged
            logger.info("clean batch events=%d sent=%d offsets=%s", len(events), len(sent),
                        offset_ranges(events))


def _story_agent(pipeline: Pipeline, story: StoryBatch, batching: Batching) -> None:
    @pipeline.app.agent(pipeline.topics["clean"], name=f"{pipeline.config.prefix}.enrich")
    async def enrich(stream: StreamT) -> None:
        # under a backlog, fewer and larger batches: each state key changed by many of a
        # batch's articles (word counts, story vectors) reaches the changelog once per batch
        wide = Batching(STORY_BATCH_FACTOR * batching.size, batching.within)
        async for events in batches(stream, wide):
            await story.process(events)

    if any(rule.mode == "digest" for rule in story.stages_rules()):
        @pipeline.app.timer(interval=batching.digest_tick)
        async def digests() -> None:
            await story.send_due_digests()


def _index_agent(pipeline: Pipeline, sink: ElasticsearchSink, dead: Dead,
                 batching: Batching) -> None:
    @pipeline.app.agent(pipeline.topics["enriched"], name=f"{pipeline.config.prefix}.index")
    async def index(stream: StreamT) -> None:
        wide = Batching(max(batching.size, 500), batching.within)
        async for batch in batches(stream, wide):
            values = [cast(Any, e.value) for e in batch]
            events = [v for v in values if isinstance(v, EnrichedEvent)]
            for bad in (v for v in values if isinstance(v, Undecodable)):
                await dead("decode", None, bad.error, bad.text)
            merged = {old: (e.story.id, e.revision) for e in events for old in e.merged_story_ids}
            started = time.perf_counter()
            rejected = await sink.write([e.article for e in events],
                                        [(e.story, e.revision) for e in events], merged)
            metrics.stage_seconds("index", time.perf_counter() - started)
            by_id = {e.article.id: e for e in events}
            for r in rejected:
                payload = by_id[r.id].model_dump_json() if r.id in by_id else r.id
                await dead("index", r.id, r.error, payload)
            if sink.take_lost():  # Elasticsearch came back empty: what it held, again
                await reindex_enriched(pipeline.config, sink)
            logger.info("index batch events=%d rejected=%d offsets=%s", len(batch),
                        len(rejected), offset_ranges(batch))


def _dead_agent(pipeline: Pipeline, sink: ElasticsearchSink, batching: Batching) -> None:
    """Dead letters into ``<prefix>-dead`` (Elasticsearch), where ``newswire dead-letters``
    lists, replays and purges them; the topic stays the durable record."""
    @pipeline.app.agent(pipeline.topics["dead"], name=f"{pipeline.config.prefix}.dead-index")
    async def index_dead_letters(stream: StreamT) -> None:
        async for events in batches(stream, batching):
            letters: list[tuple[str | None, DeadLetter]] = []
            for event in events:
                value = cast(Any, event.value)
                if isinstance(value, Undecodable):
                    value = DeadLetter(stage="decode", error=value.error, payload=clip(value.text))
                letters.append((_key(event), value))
                metrics.dead_letter(value.stage, reason_class(value.error))
            await index_dead(sink.client, sink.names.prefix, letters)


def _deliver_agent(pipeline: Pipeline, sink: ElasticsearchSink, notifier: Notifier,
                   dead: Dead) -> None:
    """Alerts not yet in the alert log are delivered concurrently per (rule, channel), each
    recorded as soon as it settled. Batches are delivered side by side (up to
    ``DELIVERIES_IN_FLIGHT``), so a channel that keeps failing for a minute holds up no
    later alert; their offsets are still acknowledged in order (``InOrderAcks``): an
    acknowledged offset past an unacknowledged one reads as a dropped message to
    ``offsets``, which would read the partition again."""

    busy: dict[str, asyncio.Event] = {}  # alerts being delivered by a batch in flight

    async def settled(alert: AlertEvent) -> None:  # recorded at once, not per batch
        metrics.ALERT_DELIVERIES.labels(alert.channel, alert.state).inc()
        if alert.state == "failed":
            await dead("alert", f"alert:{alert_id(alert)}", alert.error or "failed",
                       alert.model_dump_json())
        await sink.record_alert(alert)

    async def deliver_batch(events: list[EventT]) -> None:
        pending: list[AlertEvent] = []
        try:
            for event in events:
                key, alert = _key(event), cast(Any, event.value)
                if isinstance(alert, Undecodable):
                    await dead("decode", key, alert.error, alert.text)
                    continue
                ident = alert_id(alert)
                while ident in busy:  # a copy (a replay) is being sent by another batch
                    await busy[ident].wait()
                if await sink.has_alert(alert):  # delivered before (a crash, a copy)
                    continue
                busy[ident] = asyncio.Event()
                pending.append(alert)
            await notifier.deliver_all(pending, on_done=settled)
        finally:
            for alert in pending:
                done = busy.pop(alert_id(alert), None)
                if done is not None:
                    done.set()

    @pipeline.app.agent(pipeline.topics["alerts"], name=f"{pipeline.config.prefix}.deliver")
    async def deliver(stream: StreamT) -> None:
        acks = InOrderAcks(stream)
        async for events in stream.take_events(50, within=0.05):  # type: ignore[attr-defined]
            await acks.start(events, partial(deliver_batch, events))


class InOrderAcks:
    """Batches processed concurrently, acknowledged strictly in arrival order.

    Each event holds one more reference than faust's ``take_events`` releases, so it is
    acknowledged only when its batch and every batch before it are done; a crash before
    that reads them again (the sinks are idempotent).
    """

    def __init__(self, stream: StreamT, limit: int = DELIVERIES_IN_FLIGHT) -> None:
        self.stream, self.limit = stream, limit
        self.inflight: list[tuple[asyncio.Task[None], list[EventT]]] = []
        self._draining = False

    async def start(self, events: list[EventT], work: Callable[[], Awaitable[None]]) -> None:
        """Start ``work()`` on ``events``; raises the error of a failed earlier batch (the
        agent stops there: nothing after it is acknowledged, a restart reads it again)."""
        self._raise_failed()
        for event in events:
            hold(event)
        task: asyncio.Task[None] = asyncio.ensure_future(work())
        self.inflight.append((task, events))
        task.add_done_callback(lambda _t: asyncio.ensure_future(self.drain()))
        while len(self.inflight) > self.limit:  # back-pressure: wait for the oldest
            await asyncio.wait([self.inflight[0][0]])
            await self.drain()
            self._raise_failed()

    def _raise_failed(self) -> None:
        head = self.inflight[0][0] if self.inflight else None
        if head is not None and head.done():
            head.result()  # raises its error (CancelledError if it was cancelled)

    async def drain(self) -> None:
        """Acknowledge the finished batches at the head, in order; stop at a failed one."""
        if self._draining:
            return
        self._draining = True
        try:
            while self.inflight and self.inflight[0][0].done():
                task, events = self.inflight[0]
                if task.cancelled() or task.exception() is not None:
                    return  # held: ``start`` raises it
                self.inflight.pop(0)
                for event in events:
                    await self.stream.ack(event)
        finally:
            self._draining = False


async def fitting(record: BaseModel, stage: str, dead: Dead) -> bytes | None:
    """The record's JSON (what the topic's codec would send; sent as is, encoded once), or
    None when it is too large for Kafka even compressed (then it is dead-lettered with its
    size and source, without its body)."""
    data: bytes = record.model_dump_json().encode("utf-8")  # pydantic's JSON is Rust
    compressed = oversize(data)
    if compressed is None:
        return data
    key = getattr(getattr(record, "article", None), "id", None)
    await dead(stage, key, too_large(len(data), compressed, source_of(record)), summary(record))
    return None


def in_published_order(events: list[EventT]) -> list[EventT]:
    """A batch in publication order (stable; an undated article stays after the one before).

    With several raw partitions the clean agent's output interleaves the partitions, so
    the story agent would see articles hours or days apart side by side (a bulk ingest) and
    make different stories than from one partition; in order, it makes the same ones."""
    keyed, last = [], None
    for i, event in enumerate(events):
        value: Any = event.value
        published = None if isinstance(value, Undecodable) else value.article.published
        last = published or last
        keyed.append((last.timestamp() if last else float("-inf"), i, event))
    keyed.sort(key=lambda k: (k[0], k[1]))
    return [event for _, _, event in keyed]


def _key(event: EventT) -> str | None:
    key = event.key
    return key.decode() if isinstance(key, bytes) else cast("str | None", key)


class StoryBatch:
    """The story agent's state and one batch's work: assign, commit, emit, mark seen."""

    def __init__(self, pipeline: Pipeline, make_stages: StagesFactory, dead: Dead,
                 refresh: Refresh = lambda: 0) -> None:
        app, self.topics, self.dead = pipeline.app, pipeline.topics, dead
        self.refresh, self.generation = refresh, refresh()
        # One writer on one partition; its changelog records go out in bulk per batch.
        self.changelog = ChangelogWriter(pipeline.config.kafka)

        def table(name: str) -> BulkTable:
            return self.changelog.table(app.Table(name, partitions=1, key_type=str,
                                                  use_partitioner=True))

        cluster = table("cluster-state")
        self.cluster = JournaledState(cluster)
        self.fired = PendingWrites(table("alert-keys"))
        self.seen = table("seen")
        self.make_stages = make_stages
        self._stages: Stages | None = None
        self._recovered = False
        self.app = app
        self.lock = asyncio.Lock()  # one batch or one digest pass at a time
        self.batches = 0  # processed (``settle_heap``)
        self._state_tp = TP(cluster.topic_name, 0)
        app.on_partitions_revoked.connect(self._forget)  # type: ignore[arg-type]

    def stages_rules(self) -> list[Any]:
        """The alert rules (without touching state: a throwaway ``Stages``)."""
        return list(self.make_stages({}, {}).alerts.rules)

    def owns_state(self) -> bool:
        """This worker holds the story state now (assigned, recovered, not rebalancing)."""
        return tables.holds_table(self.app, self._state_tp)

    async def _forget(self, _app: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        self._stages, self._recovered = None, False  # another worker may have run it since

    def _reload(self) -> None:
        """Between batches: reloaded rules or topics rebuild the stages (the same state)."""
        if self.refresh() != self.generation:
            self._stages, self.generation = None, self.refresh()

    def stages(self) -> Stages:
        if self._stages is None:
            if not self._recovered:
                self.cluster.recover()
                self._recovered = True
            self._stages = self.make_stages(self.cluster, self.fired)
        return self._stages

    async def send_due_digests(self) -> int:
        """Send the digests whose period has ended (idle stream: no batch to carry them)."""
        async with self.lock:
            if not self.owns_state():
                return 0
            self._reload()
            digests = self.stages().alerts.due_digests()
            if not digests:
                self.fired.discard()
                return 0
            await self._emit([], digests)  # Kafka has them: now the emptied queues may say so
            self.fired.commit()
            await self.changelog.flush()
            logger.info("digests sent=%d (timer)", len(digests))
            return len(digests)

    async def process(self, events: list[EventT]) -> None:
        async with self.lock:
            self._reload()
            await self._process(events)
            self.batches += 1
            settle_heap(self.batches)  # the story state out of the collector's walks

    async def _process(self, events: list[EventT]) -> None:
        done: list[tuple[int, Enriched]] = []
        ids: set[str] = set()
        for event in in_published_order(events):
            value: Any = event.value
            if isinstance(value, Undecodable):
                await self.dead("decode", _key(event), value.error, value.text)
            elif value.article.id not in self.seen and value.article.id not in ids:
                ids.add(value.article.id)
                out = await self._assign(value)
                if out is not None:
                    done.append((self._revision(), out))
        # Digest periods that have ended: their queues (alert state) empty with this batch's
        # alert keys, once Kafka has the digest alerts; a crash before resends the same ones.
        digests = self.stages().alerts.due_digests()
        self.cluster.commit()  # atomic: a crash from here on replays onto a complete state
        await self.changelog.flush()
        await self._emit(done, digests)  # Kafka has them: now the state may say so
        self.fired.commit()
        for _, out in done:
            self.seen[out.article.id] = out.story.id
        await self.changelog.flush()  # before the batch's offsets are committed
        logger.info("story batch events=%d assigned=%d alerts=%d offsets=%s",
                    len(events), len(done), sum(len(o.alerts) for _, o in done) + len(digests),
                    offset_ranges(events))

    async def _assign(self, value: AnalysedEvent) -> Enriched | None:
        self.cluster.savepoint()
        self.fired.savepoint()
        started = time.perf_counter()
        try:
            out = await attempt("enrich", lambda: self.stages().assign(value.analysed()))
            metrics.stage_seconds("assign", time.perf_counter() - started)
            return out
        except Failed as exc:
            self.cluster.rollback()  # this article's writes only; the batch's stay
            self.fired.rollback()
            self._stages = None  # its caches saw the undone writes
            await self.dead("enrich", value.article.id, str(exc), value.model_dump_json())
            return None

    def _revision(self) -> int:
        """Articles assigned so far: rises with every change, whatever order offsets come in.

        Story snapshots are written to Elasticsearch at this version: a message read again
        (a replay, a re-read after a drop) is assigned after later offsets were, and its
        snapshot must win over theirs.
        """
        meta = self.cluster.get("meta") or {}
        return int(meta.get("n", 0))

    async def _emit(self, done: list[tuple[int, Enriched]],
                    digests: list[AlertEvent] | None = None) -> None:
        sent = [await self.topics["alerts"].send(key=a.story_id, value=a)
                for a in digests or []]
        for revision, out in done:
            sent += [await self.topics["alerts"].send(key=a.story_id, value=a)
                     for a in out.alerts]
            value = await fitting(EnrichedEvent(
                article=out.article, story=out.story, revision=revision,
                merged_story_ids=out.merged_story_ids), "enrich", self.dead)
            if value is not None:
                sent.append(await self.topics["enriched"].send(key=out.article.id, value=value))
        await asyncio.gather(*sent)
