"""Issue #16 item 9 on the Kafka backend (real Elasticsearch and Kafka, through the real
CLI): search totals, id prefixes (merged stories too), JSON times, `poll --once` summary.
Each test has its own index and topic prefix."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from elasticsearch import Elasticsearch, helpers

from pipeline.storage.elasticsearch.store import (
    ElasticsearchStore,
    IndexNames,
    article_doc,
    drop,
    install,
)
from tests.conftest import REPO, newswire
from tests.e2e.test_first_hour_cli import config_dir
from tests.integration.conftest import (
    ELASTICSEARCH,
    KAFKA,
    _delete_topics,
    _es_reachable,
    _kafka_reachable,
    _require,
)
from tests.unit.web.conftest import ARTICLES, story_of

pytestmark = pytest.mark.integration


@pytest.fixture
def prefix() -> str:
    return "nwtest-" + uuid.uuid4().hex[:10]


@pytest.fixture
def indexed(prefix: str) -> Iterator[IndexNames]:
    """The unit web tests' articles and stories in this test's indices, plus a tombstone:
    story ``s-old`` was merged into ``s-pact``."""
    _require(_es_reachable())
    names = IndexNames(prefix)
    client = Elasticsearch(ELASTICSEARCH, request_timeout=30)
    install(client, names)
    helpers.bulk(client, ({"_index": names.articles, "_id": a.id, "_source": article_doc(a)}
                          for a in ARTICLES))
    for sid in ("s-pact", "s-quake", "s-evil"):
        story = story_of(sid)
        client.index(index=names.stories, id=sid, document={
            **story.model_dump(mode="json"), "article_count": story.article_count})
    client.index(index=names.stories, id="s-old", document={"id": "s-old",
                                                             "merged_into": "s-pact"})
    ElasticsearchStore(client, names).refresh()
    try:
        yield names
    finally:
        drop(client, names)
        client.close()


def kafka_cli(config: Path, data: Path, prefix: str, *args: str, check: bool = True) -> str:
    env = {"NEWSWIRE_ELASTICSEARCH": ELASTICSEARCH, "NEWSWIRE_KAFKA": KAFKA,
           "NEWSWIRE_INDEX_PREFIX": prefix, "NEWSWIRE_TOPIC_PREFIX": prefix, "COLUMNS": "80"}
    result = newswire(config, data, "--backend", "kafka", *args, check=check, env=env)
    return result.stdout if result.returncode == 0 else f"exit {result.returncode}: " \
        + result.stderr


def test_search_total_and_id_prefixes_on_elasticsearch(indexed: IndexNames, prefix: str,
                                                       tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    every = json.loads(kafka_cli(config, data, prefix, "search", "security", "--json",
                                 "--limit", "100"))
    assert len(every["hits"]) == 4
    page = json.loads(kafka_cli(config, data, prefix, "search", "security", "--json",
                                "--limit", "1"))
    assert (page["total"], page["total_capped"], len(page["hits"])) == (4, False, 1)
    assert all(h["published"].endswith("Z") for h in every["hits"])

    table = kafka_cli(config, data, prefix, "search", "security")
    assert all(h["id"] in table for h in every["hits"])
    assert json.loads(kafka_cli(config, data, prefix, "story", "s-qu", "--json"))["id"] \
        == "s-quake"
    assert json.loads(kafka_cli(config, data, prefix, "story", "s-ol", "--json"))["id"] \
        == "s-pact", "a merged story's id leads to the story it joined"
    several = kafka_cli(config, data, prefix, "story", "s-", check=False)
    assert several.startswith("exit 1") and all(s in several for s in ("s-pact", "s-quake",
                                                                        "s-evil"))
    assert json.loads(kafka_cli(config, data, prefix, "explain", "a3", "--json"))["id"] == "a3"
    ambiguous = kafka_cli(config, data, prefix, "explain", "a", check=False)
    assert ambiguous.startswith("exit 1") and all(f"a{i}" in ambiguous for i in range(5))
    none = kafka_cli(config, data, prefix, "explain", "zz", check=False)
    assert none.startswith("exit 1") and "'zz'" in none
    stories = json.loads(kafka_cli(config, data, prefix, "stories", "--json"))["stories"]
    assert all(s["first_seen"].endswith("Z") for s in stories)


def test_poll_once_prints_a_summary(prefix: str, tmp_path: Path) -> None:
    _require(_kafka_reachable())
    config, data = config_dir(tmp_path), tmp_path / "data"
    shutil.copytree(REPO / "config" / "samples", config / "samples")
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [
        {"url": "samples/sample-feed.xml", "name": "Newswire Sample Wire"},
        {"url": "samples/missing-feed.xml", "name": "Not there"}]}))
    env = {"NEWSWIRE_ELASTICSEARCH": ELASTICSEARCH, "NEWSWIRE_KAFKA": KAFKA,
           "NEWSWIRE_TOPIC_PREFIX": prefix, "NEWSWIRE_INDEX_PREFIX": prefix}
    try:
        first = newswire(config, data, "--backend", "kafka", "poll", "--once", env=env)
        summary = first.stderr.strip().splitlines()[-1]
        assert summary.startswith("sent ") and f"new articles to {prefix}.raw" in summary
        assert not summary.startswith("sent 0 "), summary
        # the sample's own state (ok, or stale: its items are old) is another item's concern
        assert re.search(r"feeds: 1 failing, 1 (ok|stale) \(`newswire feeds", summary), summary
        again = newswire(config, data, "--backend", "kafka", "poll", "--once", env=env)
        assert f"sent 0 new articles to {prefix}.raw" in again.stderr
    finally:
        asyncio.run(_delete_topics(prefix))
