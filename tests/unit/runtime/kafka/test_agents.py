"""The Faust agents with no broker (faust's ``agent.test_context()``): the wiring around
the pure stages, poison to the dead-letter topic, the stream going on after it."""

from __future__ import annotations

import asyncio
from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest

from pipeline.errors import SinkUnavailable
from pipeline.models import AlertEvent, AlertRule, Article, DeadLetter, RawArticle
from pipeline.processing.stages import Stages
from pipeline.runtime.kafka.agents import (
    InOrderAcks,
    StoryBatch,
    in_published_order,
    register_agents,
)
from pipeline.runtime.kafka.codec import Undecodable
from pipeline.runtime.kafka.topics import (
    TOPICS,
    AnalysedEvent,
    EnrichedEvent,
    StreamConfig,
    create_app,
)
from tests.unit.runtime.faults import failing_on


@pytest.fixture
def pipeline(tmp_path: Path) -> Any:
    p = create_app(StreamConfig(prefix="unit", datadir=tmp_path / "faust"))
    register_agents(p, lambda cluster, alerts: Stages([], [], cluster, alerts),
                    sink=AsyncMock(), notifier=AsyncMock())
    p.app.finalize()
    p.app.conf.store = "memory://"
    p.app.flow_control.resume()
    return p


def recorder(sent: list[tuple[str, Any, Any]], name: str) -> Any:
    """A topic's ``send`` that records (topic, key, value) and acknowledges at once; a value
    sent encoded (the agents encode each record once) is recorded as its topic's model."""
    async def send(key: Any = None, value: Any = None, **kw: Any) -> Any:
        if isinstance(value, bytes):
            value = TOPICS[name].record.model_validate_json(value)
        sent.append((name, key, value))
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done
    return send


async def test_clean_agent_sends_articles_on_and_poison_to_dead(pipeline: Any) -> None:
    good = RawArticle(url="https://a.example/1", title="Pact signed",
                      text="The two countries signed a security pact on Thursday. " * 5)
    sent: list[tuple[str, Any, Any]] = []

    with patch.object(pipeline["clean"], "send", recorder(sent, "clean")), \
            patch.object(pipeline["dead"], "send", recorder(sent, "dead")):
        agent = pipeline.app.agents["unit.clean"]
        async with agent.test_context() as test:
            await test.put(key="bad", value=Undecodable(b"{x", "invalid json"))
            await test.put(key="empty", value=RawArticle(url="https://a.example/2",
                                                         text="!!! ???"))
            await test.put(key="good", value=good)
    assert [(name, key) for name, key, _ in sent] == [
        ("dead", "bad"), ("dead", "empty"), ("clean", sent[2][1])]
    assert isinstance(sent[0][2], DeadLetter) and sent[0][2].stage == "decode"
    assert sent[1][2].stage == "clean" and "NotAnArticle" in sent[1][2].error
    assert isinstance(sent[2][2], AnalysedEvent) and sent[2][2].article.title == "Pact signed"
    assert sent[2][2].features["signature"] and sent[2][2].features["vector"]  # analysed here


_ANALYSER = Stages([], [], {}, {})


def _event(value: Any, offset: int) -> Any:
    """A clean-topic event: an article with its stateless analysis, as the clean agent sends."""
    if isinstance(value, Article):
        value = AnalysedEvent.of(_ANALYSER.analyse(value))
    return SimpleNamespace(key=value.article.id, value=value,
                           message=SimpleNamespace(offset=offset, partition=0))


class _DigestAgent:
    """A story agent with one hourly digest rule, a settable clock and Kafka sends
    recorded (``alerts``): what the digest tests drive."""

    def __init__(self, tmp_path: Path, rule: AlertRule) -> None:
        self.now = datetime(2024, 6, 13, 10, 15, tzinfo=UTC)
        self.alerts: list[AlertEvent] = []

        def make_stages(cluster: Any, alerts: Any) -> Stages:
            stages = Stages([], [rule], cluster, alerts)
            stages.alerts.clock = lambda: self.now
            return stages

        self.app = create_app(StreamConfig(prefix="unit", datadir=tmp_path / "faust"))
        self.story = StoryBatch(self.app, make_stages, AsyncMock())

    async def send(self, key: Any = None, value: Any = None, **kw: Any) -> Any:
        if isinstance(value, AlertEvent):
            assert key == value.story_id
            self.alerts.append(value)
        done = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def patched(self) -> ExitStack:
        stack = ExitStack()
        stack.enter_context(patch.object(self.story.changelog, "flush", AsyncMock()))
        for topic in ("alerts", "enriched"):
            stack.enter_context(patch.object(self.app[topic], "send", self.send))
        return stack


async def test_story_agent_sends_a_due_digest_once_with_its_batch(
        seeds: dict[str, str], tmp_path: Path) -> None:
    """Kafka runtime: digest rules queue stories; the batch after the period ended sends
    one digest per channel listing them (emptied queue committed with it), then none."""
    agent = _DigestAgent(tmp_path, AlertRule(
        name="digest", query="(security AND pact) OR (earthquake AND magnitude)",
        channels=["jsonl:alerts.jsonl"], mode="digest", digest_every="hourly"))
    story, alerts = agent.story, agent.alerts
    cleaner = Stages([], [], {}, {})
    pact = cleaner.clean(RawArticle(url="https://a.example/pact", source="A",
                                    text=seeds["000"]))
    quake = cleaner.clean(RawArticle(
        url="https://quake.example/q", source="Quake Wire",
        title="Strong earthquake shakes the coast",
        text="A strong earthquake of magnitude 6.8 shook the coast on Thursday, damaging "
             "houses and roads. Rescue teams searched the rubble as aftershocks continued "
             "through the night in the region."))

    with agent.patched():
        await story.process([_event(pact, 1), _event(quake, 2)])
        assert alerts == []  # queued until the hour is over
        assert len(story.stages().alerts.queued("digest")) == 2
        agent.now += timedelta(minutes=30)
        await story.process([_event(pact, 1)])  # a replayed article: still 10:45
        assert alerts == []
        agent.now += timedelta(minutes=20)  # 11:05
        await story.process([_event(quake, 2)])
        await story.process([_event(pact, 1)])
    assert len(alerts) == 1, f"one digest expected, sent {len(alerts)}"
    digest = alerts[0]
    assert (digest.kind, digest.channel) == ("digest", "jsonl:alerts.jsonl")
    assert digest.story_id == "digest:2024-06-13T10:00:00+00:00"
    stories = {story.seen[pact.id], story.seen[quake.id]}
    assert {i.story_id for i in digest.stories} == stories and len(stories) == 2
    assert "digestq:digest" not in story.fired.table  # the emptied queue is committed


async def test_digest_timer_sends_due_digests_on_an_idle_stream_once(
        seeds: dict[str, str], tmp_path: Path) -> None:
    """No batch after the period ended: the timer pass sends the digest (once), and only
    in the worker that holds the story state."""
    agent = _DigestAgent(tmp_path, AlertRule(name="digest", query="security AND pact",
                                             channels=["console"], mode="digest",
                                             digest_every="hourly"))
    story, alerts = agent.story, agent.alerts
    pact = _ANALYSER.clean(RawArticle(url="https://a.example/pact", source="A",
                                      text=seeds["000"]))
    owner = [True]
    with agent.patched(), patch.object(story, "owns_state", lambda: owner[0]):
        await story.process([_event(pact, 1)])
        assert await story.send_due_digests() == 0 and alerts == []  # the hour is not over
        agent.now += timedelta(hours=1)
        owner[0] = False
        assert await story.send_due_digests() == 0  # another worker holds the state
        owner[0] = True
        assert await story.send_due_digests() == 1
        assert await story.send_due_digests() == 0
    assert [(a.kind, a.rule) for a in alerts] == [("digest", "digest")]
    assert "digestq:digest" not in story.fired.table


async def test_story_snapshots_rise_in_processing_order_not_offset_order(
        seeds: dict[str, str], tmp_path: Path) -> None:
    """A message read again after later offsets (a re-read after a drop) makes the newest
    snapshot of its story: its revision must beat theirs, or Elasticsearch keeps an older
    story document that does not list the article."""
    agent = _DigestAgent(tmp_path, AlertRule(name="any", query="pact",
                                             channels=["jsonl:a.jsonl"]))
    enriched: list[EnrichedEvent] = []

    async def send(key: Any = None, value: Any = None, **kw: Any) -> Any:
        enriched.append(EnrichedEvent.model_validate_json(value))  # sent encoded
        return await agent.send(key, value)

    cleaner = Stages([], [], {}, {})
    a, b, c = (cleaner.clean(RawArticle(url=f"https://{n}.example/pact", source=n,
                                        text=seeds[key]))
               for n, key in (("a", "000"), ("b", "001"), ("c", "002")))
    with agent.patched(), patch.object(agent.app["enriched"], "send", send):
        await agent.story.process([_event(a, 10), _event(b, 11)])
        await agent.story.process([_event(c, 5)])  # an earlier offset, assigned last
        await agent.story.process([_event(a, 10)])  # a replay: nothing new
    revisions = {e.article.id: e.revision for e in enriched}
    assert revisions[c.id] > revisions[b.id] > revisions[a.id]
    assert len({e.story.id for e in enriched}) == 1  # one story: c's snapshot is newest
    newest = max(enriched, key=lambda e: e.revision)
    assert set(newest.story.article_ids) == {a.id, b.id, c.id}


def test_analysed_event_carries_every_cluster_feature(seeds: dict[str, str]) -> None:
    """The story agent assigns from what the clean agent sent: the same features (but the
    body words, already folded into the signature) after a trip through the topic's codec."""
    article = _ANALYSER.clean(RawArticle(url="https://a.example/pact", source="A",
                                         text=seeds["000"]))
    analysed = _ANALYSER.analyse(article)
    wire = AnalysedEvent.model_validate_json(AnalysedEvent.of(analysed).model_dump_json())
    sent, got = analysed.cluster_features, wire.analysed().cluster_features
    assert sent is not None and got is not None and sent.signature
    assert replace(sent, words=[]) == got
    assert wire.analysed().matches == analysed.matches


def test_the_story_agent_does_not_analyse_the_text_again(seeds: dict[str, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Alert rules match the terms the clean agent analysed: the serial story agent skips
    the analysis chain, and the document it matches is the same."""
    from pipeline.query import matcher

    article = _ANALYSER.clean(RawArticle(url="https://a.example/pact", source="A",
                                         title="Pact signed", text=seeds["000"]))
    analysed = _ANALYSER.analyse(article)
    wire = AnalysedEvent.model_validate_json(AnalysedEvent.of(analysed).model_dump_json())

    def no_analysis(text: str) -> list[str]:
        raise AssertionError(f"analysed again: {text[:40]!r}")

    monkeypatch.setattr(matcher, "terms", no_analysis)
    again = wire.analysed().document
    for name, field in analysed.document.fields.items():
        assert again.fields[name].terms == field.terms
        assert again.fields[name].positions == field.positions
    assert again.fields["title"].terms and again.fields["text"].terms
    assert again.keywords == analysed.document.keywords


class _AckLog:
    def __init__(self) -> None:
        self.acked: list[int] = []

    async def ack(self, event: Any) -> bool:
        self.acked.append(event.message.offset)
        return True


def _held(offset: int) -> Any:
    return SimpleNamespace(message=SimpleNamespace(offset=offset, incref=lambda: None))


async def test_alert_batches_run_side_by_side_but_are_acknowledged_in_order() -> None:
    """A slow batch (a channel retrying) does not hold up the next one's delivery, but the
    next one's offsets wait for it, so a crash never skips the slow batch."""
    log, slow_done, fast_ran = _AckLog(), asyncio.Event(), asyncio.Event()
    acks = InOrderAcks(log, limit=4)  # type: ignore[arg-type]

    async def slow() -> None:
        await slow_done.wait()

    async def fast() -> None:
        fast_ran.set()

    await acks.start([_held(0), _held(1)], slow)
    await acks.start([_held(2)], fast)
    await asyncio.wait_for(fast_ran.wait(), 1)
    await asyncio.sleep(0.01)
    assert log.acked == []  # the fast batch is done, but the slow one is ahead of it
    slow_done.set()
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert log.acked == [0, 1, 2]


async def test_a_failed_alert_batch_stops_the_agent_and_holds_later_acks() -> None:
    log = _AckLog()
    acks = InOrderAcks(log, limit=4)  # type: ignore[arg-type]

    async def broken() -> None:
        raise RuntimeError("elasticsearch refused")

    async def fine() -> None:
        return None

    await acks.start([_held(0)], broken)
    await asyncio.sleep(0.01)
    with pytest.raises(RuntimeError, match="refused"):
        await acks.start([_held(1)], fine)
    await acks.drain()
    assert log.acked == []


async def test_clean_agent_dead_letters_a_stage_bug_and_retries_the_retryable(
        pipeline: Any, seeds: dict[str, str]) -> None:
    """The shared policy (``pipeline.runtime.failures``): any non-retryable exception is a
    dead letter "{type}: {message}"; a retryable one is retried; the stream goes on."""
    raws = [RawArticle(url=f"https://{k}.example/pact", source=k, text=seeds[k])
            for k in ("000", "001", "002")]
    sent: list[tuple[str, Any, Any]] = []

    flaky = failing_on(str(raws[2].url), Stages.analyse,
                        SinkUnavailable("busy", retry_after=0.01), times=2)
    with patch.object(Stages, "clean", failing_on(str(raws[0].url), Stages.clean,
                                                   RuntimeError("bug on this one"))), \
            patch.object(Stages, "analyse", flaky), \
            patch.object(pipeline["clean"], "send", recorder(sent, "clean")), \
            patch.object(pipeline["dead"], "send", recorder(sent, "dead")):
        async with pipeline.app.agents["unit.clean"].test_context() as test:
            for raw in raws:
                await test.put(key=str(raw.url), value=raw)
            for _ in range(100):  # the retried one is sent after its waits
                if len(sent) == 3:
                    break
                await asyncio.sleep(0.02)
    assert [name for name, _, _ in sent] == ["dead", "clean", "clean"]
    letter = sent[0][2]
    assert (sent[0][1], letter.stage) == (str(raws[0].url), "clean")
    assert letter.error == "RuntimeError: bug on this one"
    assert [str(v.article.url) for _, _, v in sent[1:]] == [str(raws[1].url), str(raws[2].url)]


async def test_story_agent_dead_letters_a_stage_bug_and_rolls_back_its_state(
        seeds: dict[str, str], tmp_path: Path) -> None:
    agent = _DigestAgent(tmp_path, AlertRule(name="any", query="pact",
                                             channels=["jsonl:a.jsonl"]))
    dead: AsyncMock = agent.story.dead  # type: ignore[assignment]
    a, b, c = (_ANALYSER.clean(RawArticle(url=f"https://{n}.example/pact", source=n,
                                          text=seeds[key]))
               for n, key in (("a", "000"), ("b", "001"), ("c", "002")))
    enriched: list[EnrichedEvent] = []

    async def send(key: Any = None, value: Any = None, **kw: Any) -> Any:
        enriched.append(EnrichedEvent.model_validate_json(value))  # sent encoded
        return await agent.send(key, value)

    with agent.patched(), patch.object(agent.app["enriched"], "send", send), \
            patch.object(Stages, "assign", failing_on(str(b.url), Stages.assign,
                                                       ValueError("odd story"))):
        await agent.story.process([_event(a, 1), _event(b, 2), _event(c, 3)])
    dead.assert_awaited_once()
    stage, key, error, payload = dead.await_args.args
    assert (stage, key, error) == ("enrich", b.id, "ValueError: odd story")
    assert [e.article.id for e in enriched] == [a.id, c.id]
    assert b.id not in agent.story.seen
    assert not any(b.id in key for key in agent.story.cluster)  # its writes rolled back


def test_a_story_batch_is_assigned_in_publication_order() -> None:
    """Four raw partitions reach the story agent interleaved: it assigns in time order, an
    undated article (or one that could not be decoded) right after the one before it."""
    def event(name: str, hour: int | None) -> Any:
        published = None if hour is None else datetime(2026, 3, 1, hour, tzinfo=UTC)
        article = SimpleNamespace(published=published)
        return SimpleNamespace(name=name, value=SimpleNamespace(article=article))

    bad = SimpleNamespace(name="bad", value=Undecodable(b"{", "invalid json"))
    batch = [event("p0-late", 9), event("p0-undated", None), event("p1-early", 2),
             bad, event("p1-mid", 5)]
    assert [e.name for e in in_published_order(batch)] == [
        "p1-early", "bad", "p1-mid", "p0-late", "p0-undated"]
