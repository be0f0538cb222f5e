"""Thin Faust agents around the pure stages; the runtime owns every I/O.

    raw ──clean──▶ clean ──enrich (1 partition, tables)──▶ enriched ──index──▶ Elasticsearch
                                        └──────────────▶ alerts ──deliver──▶ channels + ES log
    any poison input ──▶ dead (with the reason); the stream never stops for it

At-least-once: an event is acknowledged (and its offset committed) only after what it
produced has been accepted downstream. The story agent's state changes per event are
atomic (``pipeline.stream.state``); it marks an article ``seen`` and an alert key fired
only once Kafka has the enriched article and its alerts, so a crash replays rather than
loses, and the sinks are idempotent, so a replay changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, MutableMapping
from typing import Any

from faust.types import StreamT

from pipeline.errors import PoisonInputError, RetryableError
from pipeline.models import DeadLetter
from pipeline.processing.stages import Stages
from pipeline.sinks.elasticsearch import ElasticsearchSink
from pipeline.sinks.notify import Notifier
from pipeline.stream.codec import Undecodable
from pipeline.stream.state import JournaledState, PendingWrites
from pipeline.stream.topics import EnrichedEvent, Pipeline

logger = logging.getLogger(__name__)
StagesFactory = Callable[[MutableMapping[str, Any], MutableMapping[str, Any]], Stages]
BATCH, BATCH_WITHIN = 500, 0.5


class Failed(Exception):
    """A stage refused its input for good: the reason goes to the dead-letter topic."""


async def attempt(stage: str, call: Callable[[Any], Any], value: Any) -> Any:
    """Run a pure stage; retry transient failures, turn anything else into ``Failed``."""
    while True:
        try:
            return call(value)
        except RetryableError as exc:
            logger.warning("retrying stage=%s error=%s", stage, exc)
            await asyncio.sleep(getattr(exc, "retry_after", 1.0))
        except PoisonInputError as exc:
            raise Failed(f"{type(exc).__name__}: {exc}") from exc
        except Exception as exc:  # a deterministic bug on this input: never block the stream
            logger.exception("stage failed stage=%s", stage)
            raise Failed(f"{type(exc).__name__}: {exc}") from exc


def register_agents(pipeline: Pipeline, make_stages: StagesFactory, sink: ElasticsearchSink,
                    notifier: Notifier) -> None:
    """Add the four agents and the story agent's tables to the pipeline's app."""
    app, topics = pipeline.app, pipeline.topics
    cluster = JournaledState(app.Table("cluster-state", partitions=1, key_type=str))
    fired = PendingWrites(app.Table("alert-keys", partitions=1, key_type=str))
    seen = app.Table("seen", partitions=1, key_type=str)
    holder: dict[str, Stages] = {}

    def stages() -> Stages:  # the story agent's, over its tables (built in its stream)
        if "stages" not in holder:
            cluster.recover()
            holder["stages"] = make_stages(cluster, fired)
        return holder["stages"]

    def reset() -> None:  # a failed event: drop its writes and the caches that saw them
        cluster.discard()
        fired.discard()
        holder.clear()

    cleaner = make_stages({}, {})  # cleaning is stateless: no tables on the raw partitions

    async def forget(_app: Any, *args: Any, signal: Any, **kwargs: Any) -> None:
        holder.clear()  # the story agent's caches may be stale once another worker ran it

    app.on_partitions_revoked.connect(forget)  # type: ignore[arg-type]  # mode types it narrowly

    async def dead(stage: str, key: str | None, error: str, payload: str) -> None:
        logger.warning("dead-letter stage=%s key=%s error=%s", stage, key, error)
        letter = DeadLetter(stage=stage, error=error, payload=payload)
        await topics["dead"].send(key=key, value=letter)

    @app.agent(topics["raw"], name=f"{pipeline.config.prefix}.clean")
    async def clean(stream: StreamT) -> None:
        async for key, raw in stream.items():
            if isinstance(raw, Undecodable):
                await dead("decode", key, raw.error, raw.text)
                continue
            try:
                article = await attempt("clean", cleaner.clean, raw)
            except Failed as exc:
                await dead("clean", key, str(exc), raw.model_dump_json())
                continue
            await topics["clean"].send(key=article.id, value=article)

    @app.agent(topics["clean"], name=f"{pipeline.config.prefix}.enrich")
    async def enrich(stream: StreamT) -> None:
        async for event in stream.events():
            article = event.value
            if isinstance(article, Undecodable):
                await dead("decode", event.key, article.error, article.text)
                continue
            if article.id in seen:
                continue
            try:
                out = await attempt("enrich", stages().enrich, article)
            except Failed as exc:
                reset()
                await dead("enrich", article.id, str(exc), article.model_dump_json())
                continue
            cluster.commit()  # atomic: a crash from here on replays onto a complete state
            sent = [await topics["alerts"].send(key=a.story_id, value=a) for a in out.alerts]
            sent.append(await topics["enriched"].send(key=article.id, value=EnrichedEvent(
                article=out.article, story=out.story, revision=event.message.offset,
                merged_story_ids=out.merged_story_ids)))
            await asyncio.gather(*sent)  # Kafka has them: now the state may say so
            fired.commit()
            seen[article.id] = out.story.id

    @app.agent(topics["enriched"], name=f"{pipeline.config.prefix}.index")
    async def index(stream: StreamT) -> None:
        async for batch in stream.take(BATCH, within=BATCH_WITHIN):
            events = [e for e in batch if isinstance(e, EnrichedEvent)]
            for bad in (e for e in batch if isinstance(e, Undecodable)):
                await dead("decode", None, bad.error, bad.text)
            merged = {old: (e.story.id, e.revision) for e in events for old in e.merged_story_ids}
            rejected = await sink.write([e.article for e in events],
                                        [(e.story, e.revision) for e in events], merged)
            by_id = {e.article.id: e for e in events}
            for r in rejected:
                payload = by_id[r.id].model_dump_json() if r.id in by_id else r.id
                await dead("index", r.id, r.error, payload)

    @app.agent(topics["alerts"], name=f"{pipeline.config.prefix}.deliver")
    async def deliver(stream: StreamT) -> None:
        async for key, alert in stream.items():
            if isinstance(alert, Undecodable):
                await dead("decode", key, alert.error, alert.text)
                continue
            if await sink.has_alert(alert):
                continue  # delivered before a crash, replayed now
            try:
                await notifier.deliver(alert)
                alert.state, alert.error = "delivered", None
            except Exception as exc:  # any channel failure is recorded with the alert
                alert.state, alert.error = "failed", f"{type(exc).__name__}: {exc}"
            await sink.record_alert(alert)
