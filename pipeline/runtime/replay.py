"""Dead letters sent through the pipeline again, from the stage that failed.

    stage     payload            embedded (SQLite)                  Kafka
    ingest    the archive line   parsed again, then from clean      parsed, to <prefix>.raw
    clean     RawArticle         from clean (runtime.process)       to <prefix>.raw
    enrich    Article / event    from tagging and story assignment  to <prefix>.clean
    index     EnrichedEvent      —                                  to <prefix>.enriched
    alert     AlertEvent         delivered again                    to <prefix>.alerts
    poll, produce, decode        not replayable (``storage.dead.not_replayable`` says why)

Replays are idempotent like every input: an article indexed meanwhile is not indexed twice.
Embedded: a letter that goes through leaves the list in the same transaction that indexes
it; one that fails again stays, with its new reason. Kafka: a letter is removed from
``<prefix>-dead`` once Kafka has its payload (only if unchanged since read); one that fails
again comes back through the dead topic with its new reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.models import AlertEvent, Article, DeadLetter, RawArticle, utcnow
from pipeline.runtime.failures import reason
from pipeline.storage.dead import not_replayable

if TYPE_CHECKING:
    from pipeline.config.settings import Settings
    from pipeline.processing.stages import Analysed
    from pipeline.runtime.embedded import EmbeddedRuntime
    from pipeline.storage.elasticsearch.dead import DeadLetterIndex

M = TypeVar("M", bound=BaseModel)
KAFKA_TOPIC = {"ingest": "raw", "clean": "raw", "enrich": "clean", "index": "enriched",
               "alert": "alerts"}


@dataclass
class ReplayReport:
    """What a replay did, per letter key."""

    through: list[str] = field(default_factory=list)  # went through: left the list
    sent: list[str] = field(default_factory=list)  # Kafka: produced again, outcome to come
    failed: dict[str, str] = field(default_factory=dict)  # failed again: the new reason
    skipped: dict[str, str] = field(default_factory=dict)  # not replayable: why


def _reparse(letter: DeadLetter) -> RawArticle | str:
    """An ``ingest`` letter's archive line parsed again: the article, or the new reason."""
    from pipeline.sources.archive import BadLine, parse_line

    found = re.match(r"line (\d+):", letter.error)
    parsed = parse_line(int(found.group(1)) if found else 0, letter.payload)
    return parsed.reason if isinstance(parsed, BadLine) else parsed


def _model(model: type[M], letter: DeadLetter) -> M | str:
    """The payload as ``model``, or why it cannot be read (a payload cut short)."""
    try:
        return model.model_validate_json(letter.payload)
    except ValidationError as exc:
        return f"its payload is not a whole {model.__name__} ({exc.error_count()} errors)"


# -- embedded --------------------------------------------------------------------------------

async def replay_embedded(runtime: EmbeddedRuntime,
                          letters: dict[str, DeadLetter]) -> ReplayReport:
    """Send ``letters`` (by key) through the embedded runtime again."""
    from pipeline.runtime.embedded import raw_id

    report = ReplayReport()
    store = runtime.store
    raws: dict[str, tuple[str, RawArticle]] = {}  # article id -> (letter key, raw)
    articles: dict[str, tuple[str, Analysed]] = {}
    alerts: list[tuple[str, AlertEvent]] = []
    for key, letter in letters.items():
        why = not_replayable(letter.stage, letter.error)
        read: RawArticle | Article | AlertEvent | str | None = why
        if why is None and letter.stage == "ingest":
            read = _reparse(letter)
            if isinstance(read, str):  # the line still does not parse: its new reason
                store.put_dead(letter.model_copy(update={"error": read, "at": utcnow()}), key)
                report.failed[key] = read
                continue
        elif why is None and letter.stage == "clean":
            read = _model(RawArticle, letter)
        elif why is None and letter.stage == "enrich":
            read = _model(Article, letter)
        elif why is None and letter.stage == "alert":
            read = _model(AlertEvent, letter)
        elif why is None:
            read = "the embedded runtime has no such stage"
        if isinstance(read, str) or read is None:
            report.skipped[key] = read or "unknown stage"
        elif isinstance(read, RawArticle):
            raws[raw_id(read)] = (key, read)
        elif isinstance(read, Article):
            tagged = _analysed(runtime, letter, read)
            if isinstance(tagged, str):  # tagging fails again
                report.failed[key] = tagged
            else:
                articles[read.id] = (key, tagged)
        else:
            alerts.append((key, read))
    outcomes = {rid: key for rid, (key, _) in [*raws.items(), *articles.items()]}
    store.replaying = set(outcomes)
    try:
        if raws:
            await runtime.process([raw for _, raw in raws.values()])
        if articles:
            await runtime.reassign([a for _, a in articles.values()])
    finally:
        store.replaying = set()
    for rid, key in outcomes.items():
        _settle(runtime, report, rid, key)
    for key, event in alerts:
        await runtime.deliver([event])
        state = store.alert_state(event)
        if state == "delivered":
            store.forget_dead([key])
            report.through.append(key)
        else:
            report.failed[key] = (store.dead_letters_by_key(keys=[key]).get(key, letters[key])
                                  .error)
    return report


def _analysed(runtime: EmbeddedRuntime, letter: DeadLetter, article: Article) -> Analysed | str:
    """The article analysed and tagged again, or the new reason (then recorded)."""
    try:
        return runtime.stages.analyse(article)
    except Exception as exc:  # noqa: BLE001 - a stage bug on this article, as in the runtime
        error = reason(exc)
        runtime.store.put_dead(letter.model_copy(update={"error": error, "at": utcnow()}),
                               article.id)
        return error


def _settle(runtime: EmbeddedRuntime, report: ReplayReport, rid: str, key: str) -> None:
    """After the batch: went through (indexed now), or failed again (dead under ``rid``)."""
    store = runtime.store
    if store.article(rid) is not None:
        store.forget_dead([key])  # an ingest letter's key is not the article id
        report.through.append(key)
        return
    again = store.dead_letters_by_key(keys=[rid]).get(rid)
    if again is None:
        report.failed[key] = "not processed (see the log)"
        return
    if key != rid:  # an ingest letter that now fails later on: the new letter replaces it
        store.forget_dead([key])
    report.failed[key] = again.error


# -- Kafka -----------------------------------------------------------------------------------

async def replay_kafka(settings: Settings, index: DeadLetterIndex, stage: str | None,
                       keys: list[str] | None) -> ReplayReport:
    """Produce each letter's payload to the input topic of its stage; remove it from the
    index once Kafka has it (only if it did not change since: a failure meanwhile stays)."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.errors import KafkaConnectionError

    from pipeline.errors import SinkUnavailable
    from pipeline.runtime.kafka.admin import ensure_topics, stream_config
    from pipeline.runtime.kafka.limits import COMPRESSION, MAX_REQUEST_BYTES
    from pipeline.runtime.kafka.topics import TOPICS

    report = ReplayReport()
    held = index.held(stage, keys)
    config = stream_config(settings)
    outgoing: list[tuple[str, str, str, bytes]] = []  # (letter key, topic, kafka key, value)
    for key, (letter, _, _) in held.items():
        why = not_replayable(letter.stage, letter.error)
        if why is not None:
            report.skipped[key] = why
            continue
        topic = KAFKA_TOPIC[letter.stage]
        read: BaseModel | str = (_reparse(letter) if letter.stage == "ingest"
                                 else _model(TOPICS[topic].record, letter))
        if isinstance(read, str):
            report.skipped[key] = read
            continue
        if isinstance(read, AlertEvent):
            _forget_failed_alert(settings, read)
        kafka_key = (read.story_id if isinstance(read, AlertEvent)
                     else key if letter.stage != "ingest" else _raw_key(read))
        outgoing.append((key, config.topic_name(topic), kafka_key,
                         read.model_dump_json().encode("utf-8")))
    if outgoing:
        producer = AIOKafkaProducer(bootstrap_servers=config.kafka, acks="all",
                                    enable_idempotence=True, compression_type=COMPRESSION,
                                    max_request_size=MAX_REQUEST_BYTES)
        try:
            await ensure_topics(config)
            await producer.start()
        except KafkaConnectionError as exc:
            await producer.stop()
            raise SinkUnavailable(f"Kafka at {config.kafka}: {exc}") from exc
        try:
            for key, topic, kafka_key, value in outgoing:
                await producer.send_and_wait(topic, value, key=kafka_key.encode())
                report.sent.append(key)
        finally:
            await producer.stop()
    index.forget_dead(report.sent, {k: (held[k][1], held[k][2]) for k in report.sent})
    return report


def _raw_key(raw: BaseModel) -> str:
    from pipeline.runtime.embedded import raw_id

    assert isinstance(raw, RawArticle)
    return raw_id(raw)


def _forget_failed_alert(settings: Settings, event: AlertEvent) -> None:
    """The alert log records failed deliveries too, and the delivery agent skips an alert
    it has a record of: drop the failed record so the replayed alert is delivered."""
    from elasticsearch import Elasticsearch, NotFoundError

    from pipeline.storage.elasticsearch.store import IndexNames, alert_id

    client = Elasticsearch(settings.elasticsearch, request_timeout=30)
    try:
        alias = IndexNames(settings.index_prefix).alerts
        try:
            doc = client.get(index=alias, id=alert_id(event))
        except NotFoundError:
            return
        if doc["_source"].get("state") == "failed":
            client.delete(index=doc["_index"], id=alert_id(event), refresh=True)
    finally:
        client.close()
