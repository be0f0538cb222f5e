from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.models import AlertEvent
from pipeline.sinks.notify import RetryPolicy
from tests.fixtures.servers import SmtpServer, WebhookServer

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.05, timeout=2, deadline=10)


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        yield server


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with SmtpServer(tmp_path) as server:
        yield server


def event(channel: str, rule: str = "pact", kind: str = "new", sources: int = 1,
          story: str = "s-1") -> AlertEvent:
    return AlertEvent(rule=rule, story_id=story, article_id="a-1", kind=kind,  # type: ignore[arg-type]
                      headline="US and Ukraine sign <security> pact", query="ukraine",
                      channel=channel, sources=sources, url="https://outlet.example/a-1")
