"""A new rule fired on stories already stored (``newswire alerts add --since 24h``).

    stored (article, story) pairs the rule matches (as ``alerts test`` finds them)
        ──AlertMatcher (the stage itself: query, conditions, mode)──▶ alert events
        ──recorded like any alert (once per rule, story, event, channel)──▶ Notifier

Embedded: the rule's keys go into the alert state and the alert log in one SQLite
transaction, so neither this nor a running ``run`` fires the story again. Kafka: the alert
log in Elasticsearch is the record; the workers' delivery skips an alert already in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from pipeline.config.settings import Settings
from pipeline.models import AlertEvent, AlertRule, EnrichedArticle, Story
from pipeline.notify.notifier import Notifier
from pipeline.processing.alerts import AlertMatcher
from pipeline.runtime.embedded import EmbeddedRuntime
from pipeline.storage.elasticsearch.sink import ElasticsearchSink

Found = Iterable[tuple[EnrichedArticle, Story]]


async def fire_on_stored(settings: Settings, rule: AlertRule, found: Found,
                         out: TextIO | None = None) -> list[AlertEvent]:
    """Fire ``rule`` on the stored stories in ``found`` that it matches and has not fired
    on; returns the alerts delivered or failed (each recorded in the alert log)."""
    if settings.backend == "kafka":
        return await _on_elasticsearch(settings, rule, found, out)
    runtime = EmbeddedRuntime(settings, out=out)
    try:
        store = runtime.store
        matcher = AlertMatcher([rule], store.mapping("alerts"))
        store.begin()
        try:
            events = [e for article, story in found for e in matcher.match(article, story)
                      if store.put_alert(e)]
            store.commit()
        except BaseException:
            store.rollback()
            raise
        await runtime.deliver(events)
        return events
    finally:
        await runtime.close()


async def _on_elasticsearch(settings: Settings, rule: AlertRule, found: Found,
                            out: TextIO | None) -> list[AlertEvent]:
    sink = ElasticsearchSink.connect(settings.elasticsearch, settings.index_prefix)
    notifier = Notifier.from_settings(settings, out=out)
    try:
        matcher = AlertMatcher([rule], {})
        events = [e for article, story in found for e in matcher.match(article, story)]
        events = [e for e in events if not await sink.has_alert(e)]
        return await notifier.deliver_all(events, on_done=sink.record_alert)
    finally:
        await notifier.aclose()
        await sink.close()
