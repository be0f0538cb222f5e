"""Pure parts of polling: schedule, health, identity, safety."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.identity import article_id, canonical_url, identity_keys
from pipeline.sources.errors import FeedError
from pipeline.sources.health import alert_due, classify, observe_items, record_failure
from pipeline.sources.safety import check_xml
from pipeline.sources.schedule import (
    Bounds,
    feed_hint,
    plan_failure,
    plan_success,
    retry_after,
    server_hint,
)

BOUNDS = Bounds(default_interval=300, min_interval=60, max_interval=21600, max_backoff=86400)


def test_hints_from_server_and_feed() -> None:
    assert server_hint({"cache-control": "public, max-age=600", "age": "100"}, 0) == 500
    assert server_hint({"cache-control": "no-cache, max-age=600"}, 0) is None
    assert server_hint({"expires": "Thu, 13 Jun 2024 10:10:00 GMT",
                        "date": "Thu, 13 Jun 2024 10:00:00 GMT"}, 0) == 600
    assert feed_hint({"ttl": "30"}) == 1800
    assert feed_hint({"sy_updateperiod": "hourly", "sy_updatefrequency": "2"}) == 1800
    assert retry_after("120", 0) == 120
    assert retry_after("Thu, 13 Jun 2024 10:02:00 GMT",
                       datetime(2024, 6, 13, 10, tzinfo=UTC).timestamp()) == 120


def test_interval_adapts_within_bounds() -> None:
    rng = random.Random(1)
    quiet: dict[str, object] = {"interval": 300}
    for _ in range(30):  # nothing new, ever: slows down to the ceiling
        plan_success(quiet, 0, BOUNDS, new=0, total=10, hint=None, rng=rng)
    assert quiet["interval"] == 21600
    busy: dict[str, object] = {"interval": 300, "items_per_day": 2000}
    for _ in range(10):  # everything new every time: speeds up to the floor
        plan_success(busy, 0, BOUNDS, new=10, total=10, hint=None, rng=rng)
    assert busy["interval"] == 60
    polite: dict[str, object] = {"interval": 60}
    plan_success(polite, 0, BOUNDS, new=10, total=10, hint=3600, rng=rng)  # ttl wins
    assert polite["interval"] == 3600


def test_backoff_is_exponential_jittered_and_capped() -> None:
    rng = random.Random(2)
    delays = []
    for failures in range(1, 20):
        state: dict[str, object] = {"failures": failures}
        plan_failure(state, 0, BOUNDS, rng=rng)
        delays.append(float(state["next_poll"]))  # type: ignore[arg-type]
    assert 30 <= delays[0] <= 60 and 240 <= delays[3] <= 480
    assert max(delays) <= 86400
    state = {"failures": 1}
    plan_failure(state, 0, BOUNDS, wait=7200, rng=rng)
    assert state["next_poll"] >= 7200


def test_health_states_and_alerts_once() -> None:
    now = datetime(2024, 6, 20, tzinfo=UTC)
    state: dict[str, object] = {"state": "ok"}
    observe_items(state, [now - timedelta(days=10, hours=h) for h in (0, 6, 12, 18)])
    assert state["items_per_day"] == pytest.approx(4.0)
    assert classify(state, now) == "stale" and alert_due(state, now) == "stale"
    assert alert_due(state, now) is None  # once per episode
    for _ in range(5):
        record_failure(state, "HTTP 404 not found", status=404, kind="http")
    assert classify(state) == "gone"


def test_identity_of_variants() -> None:
    same = ["https://www.News.example:443/a/story/?utm_source=x&fbclid=1#top",
            "http://news.example/a/story/amp", "https://amp.news.example/a/story.amp",
            "https://news-example.cdn.ampproject.org/c/s/news.example/a/story"]
    canon = {canonical_url(u).replace("http://", "https://") for u in same}
    assert canon == {"https://news.example/a/story"}
    assert article_id("https://news.example/a?id=2") != article_id("https://news.example/a?id=3")
    keys = identity_keys("https://x.example/1", "tag:x.example,2024:1", "A title here",
                         "A body of text " * 10)
    assert [k.split(":")[0] for k in keys] == ["url", "guid", "fp"]
    assert identity_keys(None, "12", None, None) == []  # a short local GUID is not global


def test_entity_declarations_refused() -> None:
    with pytest.raises(FeedError, match="XML entity declarations refused"):
        check_xml(b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "b">]><r>&a;</r>')
    check_xml(b'<!DOCTYPE rss PUBLIC "-//Netscape//DTD RSS 0.91//EN" "x.dtd"><rss/>')
