"""Alert matching: a rule fires once per (rule, story), whatever order articles arrive in.

The keys of alerts already fired live in the mapping the runtime passes in (SQLite in the
embedded runtime, a Faust table in Kafka mode), so replays and restarts never fire twice.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from pipeline.errors import QuerySyntaxError
from pipeline.models import AlertEvent, AlertRule, EnrichedArticle, Story
from pipeline.processing.tag import document_of
from pipeline.query.matcher import Document
from pipeline.query.monitor import QueryMonitor


def alert_key(rule: str, story_id: str) -> str:
    return f"alert:{rule}:{story_id}"


class AlertMatcher:
    """Evaluates alert rules against each enriched article and its story."""

    def __init__(
        self,
        rules: list[AlertRule] | tuple[AlertRule, ...],
        state: MutableMapping[str, Any] | None = None,
    ) -> None:
        self.rules = list(rules)
        self.state: MutableMapping[str, Any] = {} if state is None else state
        self.by_name = {rule.name: rule for rule in self.rules}
        self.monitor = QueryMonitor()
        for rule in self.rules:
            try:
                self.monitor.add(rule.name, rule.query)
            except QuerySyntaxError as exc:
                raise QuerySyntaxError(f"alert rule {rule.name!r}: {exc}") from exc

    def match(self, article: EnrichedArticle, story: Story,
              doc: Document | None = None) -> list[AlertEvent]:
        if not self.rules:
            return []
        doc = doc or document_of(article, topics=article.topics, story=story.id)
        events: list[AlertEvent] = []
        for standing, _match in self.monitor.match(doc):
            rule = self.by_name[standing.name]
            key = alert_key(rule.name, story.id)
            if key in self.state or len(story.sources) < rule.min_sources:
                continue
            if any(alert_key(rule.name, old) in self.state for old in story.merged_from):
                continue  # fired already for a story that merged into this one
            self.state[key] = article.id
            events.extend(
                AlertEvent(rule=rule.name, story_id=story.id, article_id=article.id,
                           headline=story.headline, query=rule.query, channel=channel)
                for channel in rule.channels
            )
        return events
