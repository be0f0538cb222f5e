"""Replaying dead letters through the embedded runtime, from the stage that failed: what
goes through is indexed once and leaves the list; what fails again stays, with its new
reason; what cannot be replayed says why."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config.settings import load_settings
from pipeline.models import DeadLetter
from pipeline.processing.stages import Stages
from pipeline.runtime.embedded import EmbeddedRuntime, raw_id
from pipeline.runtime.replay import replay_embedded
from tests.conftest import REPO
from tests.fixtures.servers import WebhookServer
from tests.unit.runtime.faults import failing_on
from tests.unit.runtime.test_embedded import seed_raws


def runtime(tmp: Path, rules: list[dict[str, object]] | None = None) -> EmbeddedRuntime:
    config = tmp / "config"
    config.mkdir(exist_ok=True)
    (config / "topics.yaml").write_text((REPO / "config" / "topics.yaml").read_text())
    (config / "alerts.yaml").write_text(yaml.safe_dump({
        "rules": rules or [], "delivery": {"attempts": 1, "timeout": 5, "deadline": 10}}))
    return EmbeddedRuntime(load_settings(config, env={}, data_dir=tmp / "data"))


async def test_a_clean_letter_goes_through_once_the_fault_is_gone(
        seeds: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = seed_raws(seeds)
    bad = raws[2]
    monkeypatch.setattr(Stages, "prepare", failing_on(str(bad.url), Stages.prepare,
                                                      KeyError("lang"), times=1))
    rt = runtime(tmp_path)
    try:
        assert (await rt.process(raws)).dead == 1
        letters = rt.store.dead_letters_by_key()
        assert list(letters) == [raw_id(bad)]
        assert (await rt.process([bad])).skipped == 1  # a dead-lettered input is not redone
        report = await replay_embedded(rt, letters)
        assert report.through == [raw_id(bad)] and not report.failed
        assert rt.store.dead_letters() == []
        assert rt.store.article(raw_id(bad)) is not None
        assert sum(1 for _ in rt.store.export()) == len(raws)
        again = await replay_embedded(rt, letters)  # idempotent: indexed once
        assert again.through == [raw_id(bad)]
        assert sum(1 for _ in rt.store.export()) == len(raws)
    finally:
        await rt.close()


async def test_an_enrich_letter_is_assigned_to_its_story(
        seeds: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = seed_raws(seeds)
    bad = raws[1]
    monkeypatch.setattr(Stages, "assign", failing_on(str(bad.url), Stages.assign,
                                                     RuntimeError("bug"), times=1))
    rt = runtime(tmp_path)
    try:
        await rt.process(raws)
        [letter] = rt.store.dead_letters()
        assert letter.stage == "enrich"
        report = await replay_embedded(rt, rt.store.dead_letters_by_key())
        assert report.through == [raw_id(bad)]
        stories = rt.store.stories()
        assert len(stories) == 1 and raw_id(bad) in stories[0].article_ids
    finally:
        await rt.close()


async def test_a_letter_that_fails_again_stays_with_its_new_reason(
        seeds: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = seed_raws(seeds)
    bad = raws[0]
    monkeypatch.setattr(Stages, "prepare", failing_on(str(bad.url), Stages.prepare,
                                                      KeyError("lang"), times=1))
    rt = runtime(tmp_path)
    try:
        await rt.process(raws)
        first = rt.store.dead_letters()[0]
        monkeypatch.setattr(Stages, "prepare", failing_on(str(bad.url), Stages.prepare,
                                                          ValueError("still odd")))
        report = await replay_embedded(rt, rt.store.dead_letters_by_key())
        assert report.failed == {raw_id(bad): "ValueError: still odd"}
        [now] = rt.store.dead_letters()
        assert now.error == "ValueError: still odd" and now.at > first.at
        assert rt.store.article(raw_id(bad)) is None
    finally:
        await rt.close()


async def test_ingest_alert_and_poll_letters(tmp_path: Path, seeds: dict[str, str]) -> None:
    with WebhookServer() as hook:
        rules = [{"name": "pact", "query": "topic:security-pacts",
                  "channels": [f"webhook:{hook.url}/flaky/1"]}]
        rt = runtime(tmp_path, rules)
        try:
            await rt.process(seed_raws(seeds)[:1])  # the webhook answers 500 the first time
            [alert] = rt.store.dead_letters()
            assert alert.stage == "alert"
            rt.store.put_dead(DeadLetter(stage="ingest", error="line 2: bad", payload="{"))
            rt.store.put_dead(DeadLetter(stage="poll", error="no link", payload="<item/>",
                                         source="https://f.example/rss"))
            report = await replay_embedded(rt, rt.store.dead_letters_by_key())
            assert report.through == [alert.key]
            assert len(hook.bodies("/flaky/1")) == 1
            [(ingest_key, reason)] = report.failed.items()
            assert ingest_key.startswith("ingest:") and "not valid JSON" in reason
            assert list(report.skipped.values()) == [
                "a rejected feed entry is read again from its feed on the next poll"]
            assert sorted(d.stage for d in rt.store.dead_letters()) == ["ingest", "poll"]
        finally:
            await rt.close()


async def test_an_enrich_letter_whose_tagging_fails_again_keeps_the_new_reason(
        seeds: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = seed_raws(seeds)
    monkeypatch.setattr(Stages, "assign", failing_on(str(raws[0].url), Stages.assign,
                                                     RuntimeError("bug")))
    rt = runtime(tmp_path)
    try:
        await rt.process(raws[:1])
        monkeypatch.setattr(Stages, "analyse", failing_on(str(raws[0].url), Stages.analyse,
                                                          ValueError("tagger bug")))
        report = await replay_embedded(rt, rt.store.dead_letters_by_key())
        assert report.failed == {raw_id(raws[0]): "ValueError: tagger bug"}
        assert [d.error for d in rt.store.dead_letters()] == ["ValueError: tagger bug"]
    finally:
        await rt.close()
