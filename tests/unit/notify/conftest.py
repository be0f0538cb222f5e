from __future__ import annotations

from pipeline.models import AlertEvent
from pipeline.notify.notifier import RetryPolicy

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, timeout=2, deadline=10)


def event(channel: str, rule: str = "pact", kind: str = "new", sources: int = 1,
          story: str = "s-1") -> AlertEvent:
    return AlertEvent(rule=rule, story_id=story, article_id="a-1", kind=kind,  # type: ignore[arg-type]
                      headline="US and Ukraine sign <security> pact", query="ukraine",
                      channel=channel, sources=sources, url="https://outlet.example/a-1")
