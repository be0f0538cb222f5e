"""Alert matching: a rule fires once per (rule, story, event), whatever order articles arrive in.

    article + story ──QueryMonitor (anchor pre-filter)──▶ rules whose query matched
        ──conditions (topics, languages, min_sources)──▶ mode:
            new      one event per story (``alert:RULE:STORY``)
            update   new, then again each time the story grew by ``grow_by`` sources, at
                     most once per ``throttle`` (``update:RULE:STORY`` = sources, time)
            digest   the story joins the rule's queue (``digestq:RULE``); ``due_digests``
                     turns a queue whose period has ended into one event listing them

The keys live in the mapping the runtime passes in (SQLite in the embedded runtime, a
Faust table in Kafka mode), so replays, restarts and re-ingests never fire twice; keys of
stories merged into this one (``Story.merged_from``) count as this story's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, MutableMapping
from datetime import datetime, timedelta
from typing import Any

from pipeline.errors import QuerySyntaxError
from pipeline.models import AlertEvent, AlertRule, DigestItem, EnrichedArticle, Story, utcnow
from pipeline.processing.tag import document_of
from pipeline.query.matcher import Document
from pipeline.query.monitor import QueryMonitor

Clock = Callable[[], datetime]


def alert_key(rule: str, story_id: str) -> str:
    return f"alert:{rule}:{story_id}"


def _update_key(rule: str, story_id: str) -> str:
    return f"update:{rule}:{story_id}"


def _candidate_key(rule: str, story_id: str) -> str:
    return f"match:{rule}:{story_id}"


def _queue_key(rule: str) -> str:
    return f"digestq:{rule}"


def unmet_condition(rule: AlertRule, article: EnrichedArticle, story: Story) -> str | None:
    """Why the rule's conditions (beyond its query) reject this article and story, or None."""
    if rule.languages and (article.lang or "").lower() not in rule.languages:
        return f"language {article.lang or 'unknown'} not in {', '.join(rule.languages)}"
    if rule.topics and not {t.lower() for t in (*article.topics, *story.topics)} & set(
            rule.topics):
        return f"none of the topics {', '.join(rule.topics)}"
    if len(set(story.sources)) < rule.min_sources:
        return f"{len(set(story.sources))} of {rule.min_sources} sources"
    return None


def _story_ready(rule: AlertRule, story: Story) -> bool:
    """The story-level conditions, for a story that matched before it met them."""
    topics_ok = not rule.topics or bool({t.lower() for t in story.topics} & set(rule.topics))
    return topics_ok and len(set(story.sources)) >= rule.min_sources


def period_start(rule: AlertRule, now: datetime) -> datetime:
    """The start of the digest period that contains ``now`` (UTC)."""
    if rule.digest_every == "hourly":
        return now.replace(minute=0, second=0, microsecond=0)
    hour, minute = (int(p) for p in rule.digest_at.split(":"))
    boundary = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return boundary if boundary <= now else boundary - timedelta(days=1)


class AlertMatcher:
    """Evaluates alert rules against each enriched article and its story."""

    def __init__(
        self,
        rules: list[AlertRule] | tuple[AlertRule, ...],
        state: MutableMapping[str, Any] | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.rules = list(rules)
        self.state: MutableMapping[str, Any] = {} if state is None else state
        self.clock = clock
        self.by_name = {rule.name: rule for rule in self.rules}
        self.monitor = QueryMonitor()
        for rule in self.rules:
            try:
                self.monitor.add(rule.name, rule.query)
            except QuerySyntaxError as exc:
                raise QuerySyntaxError(f"alert rule {rule.name!r}: {exc}") from exc

    # -- keys, following merges -------------------------------------------------------------
    def _known(self, key: Callable[[str, str], str], rule: str, story: Story) -> Any:
        """The state under this story's key or a merged story's (copied to this story's)."""
        for sid in (story.id, *story.merged_from):
            value = self.state.get(key(rule, sid))
            if value is not None:
                if sid != story.id:
                    self.state[key(rule, story.id)] = value
                return value
        return None

    # -- matching -------------------------------------------------------------------------
    def match(self, article: EnrichedArticle, story: Story,
              doc: Document | None = None) -> list[AlertEvent]:
        if not self.rules:
            return []
        doc = doc or document_of(article, topics=article.topics, story=story.id)
        matched = {standing.name for standing, _match in self.monitor.match(doc)}
        events: list[AlertEvent] = []
        for rule in self.rules:
            if self._known(alert_key, rule.name, story) is not None:
                events += self._grown(rule, article, story)  # fired: only growth counts now
            elif rule.name in matched:
                if unmet_condition(rule, article, story) is None:
                    events += self._fire(rule, article, story)
                else:  # remember the match: a later article of the story may meet them
                    self.state[_candidate_key(rule.name, story.id)] = article.id
            elif self._known(_candidate_key, rule.name, story) is not None and \
                    _story_ready(rule, story):
                events += self._fire(rule, article, story)
        return events

    def _fire(self, rule: AlertRule, article: EnrichedArticle, story: Story) -> list[AlertEvent]:
        self.state[alert_key(rule.name, story.id)] = article.id
        sources = len(set(story.sources))
        if rule.mode == "digest":
            self._enqueue(rule, article, story)
            return []
        if rule.mode == "update":
            self.state[_update_key(rule.name, story.id)] = [sources, self.clock().isoformat()]
        return self._events(rule, article, story, "new", sources)

    def _grown(self, rule: AlertRule, article: EnrichedArticle, story: Story) -> list[AlertEvent]:
        """Update mode: fire again once the story has ``grow_by`` more sources (throttled)."""
        if rule.mode != "update":
            return []
        last = self._known(_update_key, rule.name, story) or [1, None]
        sources, now = len(set(story.sources)), self.clock()
        if sources < int(last[0]) + rule.grow_by:
            return []
        if last[1] and (now - datetime.fromisoformat(last[1])).total_seconds() < rule.throttle:
            return []
        self.state[_update_key(rule.name, story.id)] = [sources, now.isoformat()]
        return self._events(rule, article, story, "update", sources)

    def _events(self, rule: AlertRule, article: EnrichedArticle, story: Story, kind: str,
                sources: int) -> list[AlertEvent]:
        return [AlertEvent(rule=rule.name, story_id=story.id, article_id=article.id,
                           headline=story.headline, query=rule.query, channel=channel,
                           kind=kind, sources=sources, url=article.link, fired=self.clock())
                for channel in rule.channels]

    # -- digests --------------------------------------------------------------------------
    def _enqueue(self, rule: AlertRule, article: EnrichedArticle, story: Story) -> None:
        queue = dict(self.state.get(_queue_key(rule.name)) or {})
        queue.setdefault("since", period_start(rule, self.clock()).isoformat())
        item = DigestItem(story_id=story.id, article_id=article.id, headline=story.headline,
                          sources=len(set(story.sources)))
        queue["items"] = [*queue.get("items", []), item.model_dump()]
        self.state[_queue_key(rule.name)] = queue

    def due_digests(self, now: datetime | None = None) -> list[AlertEvent]:
        """One event per channel for each digest rule whose period has ended with stories
        queued; the queue is emptied in the same state change (commit them together)."""
        now = now or self.clock()
        events: list[AlertEvent] = []
        for rule in (r for r in self.rules if r.mode == "digest"):
            queue = self.state.get(_queue_key(rule.name))
            if not queue or not queue.get("items"):
                continue
            since = datetime.fromisoformat(queue["since"])
            if period_start(rule, now) <= since:
                continue
            items = [DigestItem.model_validate(i) for i in queue["items"]]
            del self.state[_queue_key(rule.name)]
            events += digest_events(rule, since, items, now)
        return events

    def queued(self, rule: str) -> list[DigestItem]:
        queue = self.state.get(_queue_key(rule)) or {}
        return [DigestItem.model_validate(i) for i in queue.get("items", [])]


def digest_events(rule: AlertRule, since: datetime, items: Iterable[DigestItem],
                  now: datetime) -> list[AlertEvent]:
    listed = list(items)
    return [AlertEvent(rule=rule.name, story_id=f"digest:{since.isoformat()}",
                       article_id=listed[0].article_id,
                       headline=f"{len(listed)} stories since {since:%Y-%m-%d %H:%M} UTC",
                       query=rule.query, channel=channel, kind="digest", stories=listed,
                       sources=None, fired=now)
            for channel in rule.channels]
