"""The embedded runtime under the shared failure policy: a stage failing on one article
dead-letters that article (its state writes undone); the others are indexed."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from pipeline.config.settings import load_settings
from pipeline.errors import SinkUnavailable
from pipeline.models import RawArticle
from pipeline.processing.stages import Enriched, Stages
from pipeline.runtime import embedded
from pipeline.runtime.embedded import POOL_MIN, Cleaned, EmbeddedRuntime, Stats, raw_id
from tests.conftest import REPO
from tests.integration.corpus import articles
from tests.unit.runtime.faults import failing_on

T = TypeVar("T")


def runtime(tmp: Path) -> EmbeddedRuntime:
    config = tmp / "config"
    config.mkdir()
    (config / "topics.yaml").write_text((REPO / "config" / "topics.yaml").read_text())
    (config / "alerts.yaml").write_text(yaml.safe_dump({"rules": []}))
    return EmbeddedRuntime(load_settings(config, env={}, data_dir=tmp / "data"))


def seed_raws(seeds: dict[str, str]) -> list[RawArticle]:
    return [RawArticle(url=f"https://{k}.outlet.example/world/pact-{k}", text=text,
                       source=f"Outlet {k}", published=datetime(2024, 6, 13, int(k[-1]),
                                                                tzinfo=UTC))
            for k, text in sorted(seeds.items())]


async def test_a_bug_in_enrich_dead_letters_the_article_and_undoes_its_state(
        seeds: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = runtime(tmp_path)
    raws = seed_raws(seeds)
    bad = raws[0]
    monkeypatch.setattr(Stages, "assign", failing_on(str(bad.url), Stages.assign,
                                                     RuntimeError("bug on this one")))
    try:
        stats = await rt.process(raws)
        assert (stats.processed, stats.dead) == (4, 1)
        [letter] = rt.store.dead_letters()
        assert (letter.stage, letter.error) == ("enrich", "RuntimeError: bug on this one")
        assert str(bad.url) in letter.payload
        assert {a.id for a in rt.store.export()} == {raw_id(r) for r in raws[1:]}
        assert all(raw_id(bad) not in s.article_ids for s in rt.store.stories())
        assert not any(raw_id(bad) in key for key in rt.state[0])  # its writes undone
    finally:
        await rt.close()


async def test_a_bug_in_clean_dead_letters_the_article_and_the_batch_goes_on(
        seeds: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = runtime(tmp_path)
    raws = seed_raws(seeds)
    monkeypatch.setattr(Stages, "prepare", failing_on(str(raws[3].url), Stages.prepare,
                                                      KeyError("lang")))
    try:
        stats = await rt.process(raws)
        assert (stats.processed, stats.dead) == (4, 1)
        [letter] = rt.store.dead_letters()
        assert (letter.stage, letter.error) == ("clean", "KeyError: 'lang'")
    finally:
        await rt.close()


async def test_a_retryable_failure_is_retried_not_dead_lettered(
        seeds: dict[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = runtime(tmp_path)
    raws = seed_raws(seeds)
    busy = SinkUnavailable("state store busy", retry_after=0.01)
    monkeypatch.setattr(Stages, "assign", failing_on(str(raws[1].url), Stages.assign, busy,
                                                     times=2))
    try:
        stats = await rt.process(raws)
        assert (stats.processed, stats.dead) == (5, 0)
        assert rt.store.dead_letters() == []
        assert len(rt.store.stories()) == 1  # the retried article joined its story once
    finally:
        await rt.close()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the process pool needs two cores")
async def test_the_process_pool_dead_letters_a_bug_in_clean_too(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raws = articles(n_stories=4)
    assert len(raws) >= POOL_MIN  # cleaned in the pool (forked: it inherits the patch)
    monkeypatch.setattr(Stages, "prepare", failing_on(str(raws[5].url), Stages.prepare,
                                                      ValueError("odd page")))
    rt = runtime(tmp_path)
    try:
        stats = await rt.process(raws)
        assert rt._pool is not None
        assert (stats.processed, stats.dead) == (len(raws) - 1, 1)
        [letter] = rt.store.dead_letters()
        assert (letter.stage, letter.error) == ("clean", "ValueError: odd page")
    finally:
        await rt.close()


def test_prepare_in_a_pool_worker_returns_the_reason() -> None:
    class Broken:
        def prepare(self, raw: RawArticle, learned: frozenset[str]) -> Enriched:
            raise RuntimeError("boom")

    raw = RawArticle(url="https://a.example/1", text="x")
    assert embedded._prepare(Broken(), raw) == "RuntimeError: boom"  # type: ignore[arg-type]


def _stage_counts() -> dict[str, float]:
    from prometheus_client import REGISTRY

    return {s.labels["stage"]: s.value for m in REGISTRY.collect()
            if m.name == "newswire_stage_seconds" for s in m.samples
            if s.name == "newswire_stage_seconds_count"}


async def test_each_stage_reports_its_time_per_article(seeds: dict[str, str],
                                                       tmp_path: Path) -> None:
    """newswire_stage_seconds on /metrics: where the time of an ingest goes."""
    before = _stage_counts()
    rt = runtime(tmp_path)
    try:
        stats = await rt.process(seed_raws(seeds))
    finally:
        await rt.close()
    after = _stage_counts()
    grew = {stage: after.get(stage, 0) - before.get(stage, 0) for stage in after}
    assert grew["prepare"] == len(seeds) and grew["assign"] == stats.processed == len(seeds)
    assert grew["commit"] >= 1


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="the process pool needs two cores")
async def test_the_pool_cleans_the_next_batch_while_a_batch_is_committed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both cores work: batch N+1 is in the pool before batch N's commit (which holds the
    event loop) starts, not once it has ended."""
    raws = articles(n_stories=12)[:3 * POOL_MIN]  # three batches, each for the pool
    monkeypatch.setattr(embedded, "BATCH", POOL_MIN)
    batch_of = {str(raw.url): i // POOL_MIN for i, raw in enumerate(raws)}
    assert len(raws) == len(batch_of) == 3 * POOL_MIN
    submitted: set[int] = set()  # batches with work in the pool

    class Recording(ProcessPoolExecutor):
        def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
            submitted.update(batch_of[str(raw.url)] for raw, _ in args[0])
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(embedded, "ProcessPoolExecutor", Recording)
    rt = runtime(tmp_path)
    in_pool_at_commit: list[set[int]] = []
    commit = rt._commit_batch

    async def recording(cleaned: list[Cleaned]) -> Stats:
        in_pool_at_commit.append(set(submitted))
        return await commit(cleaned)

    monkeypatch.setattr(rt, "_commit_batch", recording)
    try:
        stats = await rt.process(raws)
    finally:
        await rt.close()
    assert stats.processed == len(raws)
    assert [max(seen) for seen in in_pool_at_commit] == [1, 2, 2]  # the old way: 0, 1, 2
