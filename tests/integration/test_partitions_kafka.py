"""Stories do not depend on how many partitions the scaled-out stages run on.

The same dev-like stream (the synthetic corpus of ``evaluation.clustering``, gold events
known) goes through a worker with ``NEWSWIRE_KAFKA_PARTITIONS=1`` and one with ``=4``: four
raw partitions are cleaned in parallel and reach the story agent interleaved, yet its
stories must score the same against the gold events (pairwise F1 within 0.01). The corpus
goes in as ``newswire ingest`` sends an archive: each report at its published time.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from evaluation.clustering import score
from pipeline.models import RawArticle
from pipeline.runtime.embedded import raw_id
from pipeline.sources.archive import ReplayClock
from tests.fixtures.corpus import corpus
from tests.integration.conftest import StreamEnv

pytestmark = pytest.mark.integration


def stories(tmp: Path, partitions: int, raws: list[RawArticle]) -> dict[str, str]:
    """Each article's story, as Elasticsearch holds it once a worker streamed ``raws``."""
    env = StreamEnv(tmp, f"parts{partitions}-{uuid.uuid4().hex[:8]}")
    env.env["NEWSWIRE_KAFKA_PARTITIONS"] = str(partitions)
    env.env["NEWSWIRE_WORKER_BATCH_WITHIN"] = "10"  # the burst reaches the story agent in
    # one batch, assigned in publication order (across batches a backfill can be
    # reordered by as much as a partition lags: the README says so)
    env.settings = env.settings.model_copy(update={"kafka_partitions": partitions})
    try:
        env.start_worker()
        assert env.ingest(raws) == len(raws)
        store = env.store()
        env.wait_for(f"{len(raws)} articles indexed ({partitions} partitions)",
                     lambda: env.indexed(store) == len(raws), timeout=300)
        store.refresh()
        return store.story_ids()
    finally:
        env.close()


def test_stories_score_the_same_with_one_and_four_partitions(
        tmp_path: Path, kafka_url: str, es_url: str) -> None:
    records = corpus(n_events=120, seed=11)
    replay = ReplayClock()  # stream times as ``newswire ingest`` gives an archive's lines
    raws = [replay.stamp(RawArticle.model_validate({k: v for k, v in r.items() if k != "event"}))
            for r in records]
    gold = {raw_id(raw): r["event"] for raw, r in zip(raws, records, strict=True)}
    (tmp_path / "one").mkdir()
    (tmp_path / "four").mkdir()
    one = stories(tmp_path / "one", 1, raws)
    four = stories(tmp_path / "four", 4, raws)
    ids = sorted(gold)
    assert set(one) == set(four) == set(ids)  # every article, once, in both
    labels = [gold[i] for i in ids]
    f1_one = score([one[i] for i in ids], labels).f1
    f1_four = score([four[i] for i in ids], labels).f1
    assert f1_one > 0.5, f"stories with one partition score {f1_one:.3f}"  # a real clustering
    assert abs(f1_one - f1_four) <= 0.01, (f1_one, f1_four)
