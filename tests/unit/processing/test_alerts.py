"""Alerts once per (rule, story, event): seeds in any order, re-ingest, merges, restarts,
update and digest modes, delivery to a real local webhook from the embedded runtime."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config.settings import Settings, load_settings
from pipeline.models import AlertEvent, AlertRule, EnrichedArticle, RawArticle, Story
from pipeline.processing.alerts import AlertMatcher, period_start
from pipeline.runtime.embedded import EmbeddedRuntime
from tests.conftest import REPO
from tests.fixtures.servers import WebhookServer

KEYS = ["000", "001", "002", "003", "004"]
PACT = yaml.safe_load((REPO / "config" / "alerts.yaml").read_text())["rules"][0]["query"]
FAST = {"attempts": 3, "backoff": 0.01, "max_backoff": 0.05, "timeout": 2, "deadline": 10}
ORDERS = [KEYS, KEYS[::-1], ["002", "000", "004", "001", "003"],
          ["003", "001", "004", "000", "002"], ["004", "002", "000", "003", "001"]]
T0 = datetime(2024, 6, 13, 10, 15, tzinfo=UTC)


def raws(seeds: dict[str, str], order: list[str]) -> list[RawArticle]:
    return [RawArticle(url=f"https://{k}.outlet.example/world/pact-{k}", text=seeds[k],
                       source=f"Outlet {k}", published=datetime(2024, 6, 13, int(k[-1]),
                                                                tzinfo=UTC)) for k in order]


def settings(tmp: Path, rules: list[dict[str, Any]]) -> Settings:
    config = tmp / "config"
    config.mkdir(exist_ok=True)
    (config / "topics.yaml").write_text((REPO / "config" / "topics.yaml").read_text())
    (config / "alerts.yaml").write_text(yaml.safe_dump({"rules": rules, "delivery": FAST}))
    return load_settings(config, env={}, data_dir=tmp / "data")


async def ingest(cfg: Settings, items: list[RawArticle], one_by_one: bool = True,
                 clock: datetime | None = None) -> EmbeddedRuntime:
    runtime = EmbeddedRuntime(cfg)
    if clock:
        runtime.stages.alerts.clock = lambda: clock
    for batch in ([[r] for r in items] if one_by_one else [items]):
        await runtime.process(batch)
    return runtime


@pytest.mark.parametrize("order", ORDERS, ids=["-".join(o) for o in ORDERS])
async def test_seeds_fire_exactly_one_new_story_alert_in_any_order(
        seeds: dict[str, str], tmp_path: Path, order: list[str]) -> None:
    cfg = settings(tmp_path, [{"name": "pact", "query": PACT, "channels": ["jsonl:a.jsonl"]}])
    runtime = await ingest(cfg, raws(seeds, order))
    log = runtime.store.alert_log()
    stories = runtime.store.stories()
    await runtime.close()
    assert len(stories) == 1 and len(stories[0].sources) == 5
    assert [(e.rule, e.story_id, e.kind, e.state) for e in log] == [
        ("pact", stories[0].id, "new", "delivered")]
    # A second ingest (a fresh process on the same files, articles in another order): none.
    again = await ingest(cfg, raws(seeds, order[::-1]), one_by_one=False)
    assert len(again.store.alert_log()) == 1
    await again.close()
    lines = (cfg.data_dir / "a.jsonl").read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["story_id"] == stories[0].id


async def test_update_mode_fires_when_the_story_grows_by_n_sources(
        seeds: dict[str, str], tmp_path: Path) -> None:
    rule = {"name": "pact", "query": PACT, "channels": ["jsonl:a.jsonl"], "mode": "update",
            "grow_by": 2, "throttle": "0s"}
    runtime = await ingest(settings(tmp_path, [rule]), raws(seeds, KEYS))
    log = runtime.store.alert_log()
    await runtime.close()
    assert [(e.kind, e.sources) for e in log] == [("new", 1), ("update", 3), ("update", 5)]
    assert len({e.story_id for e in log}) == 1 and all(e.state == "delivered" for e in log)


async def test_update_mode_is_throttled(seeds: dict[str, str], tmp_path: Path) -> None:
    rule = {"name": "pact", "query": PACT, "channels": ["console"], "mode": "update",
            "grow_by": 1, "throttle": "1h"}
    runtime = await ingest(settings(tmp_path, [rule]), raws(seeds, KEYS), clock=T0)
    assert [e.kind for e in runtime.store.alert_log()] == ["new"]  # all within the hour
    runtime.stages.alerts.clock = lambda: T0 + timedelta(hours=2)
    story = runtime.store.stories()[0]
    article = runtime.store.article(story.article_ids[0])
    assert article is not None
    events = runtime.stages.alerts.match(article, story)
    await runtime.close()
    assert [(e.kind, e.sources) for e in events] == [("update", 5)]


async def test_digest_lists_matching_stories_once_per_period(
        seeds: dict[str, str], tmp_path: Path) -> None:
    rule = {"name": "daily", "query": f"({PACT}) OR (earthquake AND magnitude)",
            "channels": ["jsonl:d.jsonl", "atom"], "mode": "digest", "digest_every": "hourly"}
    quake = RawArticle(url="https://quake.example/q", source="Quake Wire",
                       title="Strong earthquake shakes the coast",
                       text="A strong earthquake of magnitude 6.8 shook the coast on Thursday, "
                            "damaging houses and roads. Rescue teams searched the rubble as "
                            "aftershocks continued through the night in the region.")
    runtime = await ingest(settings(tmp_path, [rule]), [*raws(seeds, KEYS), quake], clock=T0)
    assert runtime.store.alert_log() == []  # nothing until the hour is over
    runtime.stages.alerts.clock = lambda: T0 + timedelta(minutes=30)
    assert await runtime.flush_digests() == 0
    runtime.stages.alerts.clock = lambda: T0 + timedelta(minutes=50)
    assert await runtime.flush_digests() == 2  # 11:05: one event per channel
    assert await runtime.flush_digests() == 0  # emptied: never twice
    log = runtime.store.alert_log()
    await runtime.close()
    assert {e.channel for e in log} == {"jsonl:d.jsonl", "atom"}
    digest = log[0]
    assert digest.kind == "digest" and digest.story_id == "digest:2024-06-13T10:00:00+00:00"
    assert len(digest.stories) == 2 and all(e.state == "delivered" for e in log)
    assert (tmp_path / "data" / "alerts" / "daily.atom").exists()


def test_daily_digest_period() -> None:
    rule = AlertRule(name="d", query="q", mode="digest", digest_at="07:00")
    assert period_start(rule, T0) == T0.replace(hour=7, minute=0)
    assert period_start(rule, T0.replace(hour=6)) == T0.replace(day=12, hour=7, minute=0)


def story(sid: str, sources: int, merged: list[str] | None = None) -> Story:
    return Story(id=sid, headline="Ukraine pact", headline_article="a", article_ids=["a"],
                 sources=[f"s{i}" for i in range(sources)], topics=[], first_seen=T0,
                 last_seen=T0, merged_from=merged or [])


def article(aid: str, sid: str, lang: str = "en") -> EnrichedArticle:
    return EnrichedArticle(id=aid, url=f"https://x.example/{aid}", title="Ukraine pact",
                           text="Ukraine signs a pact.", source="x", story_id=sid, lang=lang)


def test_merged_story_does_not_fire_again_and_conditions_wait() -> None:
    state: dict[str, Any] = {}
    rules = [AlertRule(name="r", query="ukraine", channels=["console", "jsonl:x"]),
             AlertRule(name="two", query="ukraine", min_sources=2),
             AlertRule(name="fr", query="ukraine", languages=["fr"])]
    matcher = AlertMatcher(rules, state)
    fired = matcher.match(article("a1", "s1"), story("s1", 1))
    assert [(e.rule, e.channel) for e in fired] == [("r", "console"), ("r", "jsonl:x")]
    # s1 merges into s2: already fired for s1 → not again for s2 (nor for a restart's state)
    assert [e.rule for e in AlertMatcher(rules, state).match(
        article("a2", "s2"), story("s2", 2, merged=["s1"]))] == ["two"]
    assert matcher.match(article("a3", "s2"), story("s2", 3, merged=["s1"])) == []


def test_min_sources_fires_when_a_later_article_brings_the_sources() -> None:
    matcher = AlertMatcher([AlertRule(name="two", query="ukraine", min_sources=2)])
    assert matcher.match(article("a1", "s1"), story("s1", 1)) == []
    other = article("a2", "s1")
    other.text, other.title = "Unrelated words only.", "Something else"
    assert [e.rule for e in matcher.match(other, story("s1", 2))] == ["two"]


async def test_pending_alert_is_delivered_after_a_restart(seeds: dict[str, str],
                                                          tmp_path: Path) -> None:
    with WebhookServer() as server:
        spec = f"webhook:{server.url}/slow/3"
        cfg = settings(tmp_path, [{"name": "pact", "query": PACT, "channels": [spec]}])
        runtime = EmbeddedRuntime(cfg)
        with pytest.raises(TimeoutError):  # "killed" while the webhook is being called
            await asyncio.wait_for(runtime.process(raws(seeds, KEYS)), timeout=1.5)
        assert [e.state for e in runtime.store.alert_log()] == ["pending"]
        runtime.store.close()
        restarted = EmbeddedRuntime(cfg)
        await restarted.run(once=True)  # retries pending alerts first
        log: list[AlertEvent] = restarted.store.alert_log()
        await restarted.close()
        assert [e.state for e in log] == ["delivered"]
        ids = {r.headers["X-Newswire-Delivery"] for r in server.bodies("/slow/3")}
        assert len(ids) == 1  # any repeat carries the same delivery id (receivers dedupe)
