"""Dead letters on the Kafka backend: the worker indexes ``<prefix>.dead`` into
``<prefix>-dead``; `newswire --backend kafka dead-letters` lists, replays (the payload goes
back to the failed stage's input topic) and purges them (real Kafka + Elasticsearch)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import datetime

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from elasticsearch import Elasticsearch
from fastapi.testclient import TestClient

from pipeline.models import DeadLetter, RawArticle
from pipeline.runtime.kafka.admin import ensure_topics, stream_config
from pipeline.storage.dead import DeadRow
from pipeline.storage.elasticsearch.dead import DeadLetterIndex, index_name
from pipeline.web.app import create_app
from tests.conftest import REPO, newswire
from tests.fixtures.servers import WebhookServer
from tests.integration.conftest import StreamEnv

pytestmark = pytest.mark.integration
CONSENT = (REPO / "tests" / "fixtures" / "clean_consent.html").read_text()


@pytest.fixture
def env(stream_env: StreamEnv) -> Iterator[StreamEnv]:
    yield stream_env
    client = Elasticsearch(stream_env.elasticsearch)
    client.options(ignore_status=404).indices.delete(index=index_name(stream_env.prefix))
    client.close()


def send_dead(env: StreamEnv, key: str, letter: DeadLetter) -> None:
    """A letter as the agents write it (a stage bug since fixed: its payload is sound)."""
    async def go() -> None:
        await ensure_topics(stream_config(env.settings))
        producer = AIOKafkaProducer(bootstrap_servers=env.kafka)
        await producer.start()
        try:
            await producer.send_and_wait(f"{env.prefix}.dead",
                                         letter.model_dump_json().encode(), key=key.encode())
        finally:
            await producer.stop()
    asyncio.run(go())


def listed(env: StreamEnv) -> list[dict[str, str]]:
    out = newswire(env.config_dir, env.data_dir, "--backend", "kafka", "dead-letters",
                   "--json", env=env.env)
    return list(json.loads(out.stdout)["dead_letters"])


def test_list_replay_purge_on_kafka(env: StreamEnv, seeds: dict[str, str]) -> None:
    with WebhookServer() as hook:
        (env.config_dir / "alerts.yaml").write_text(yaml.safe_dump({  # fails the 1st time
            "rules": [{"name": "pact", "query": "topic:security-pacts",
                       "channels": [f"webhook:{hook.url}/flaky/1"]}],
            "delivery": {"attempts": 1, "timeout": 5, "deadline": 10}}))
        run_scenario(env, seeds, hook)


def run_scenario(env: StreamEnv, seeds: dict[str, str], hook: WebhookServer) -> None:
    fixed = RawArticle(id="replayed-1", url="https://o.example/world/pact", text=seeds["000"],
                       source="Outlet", feed_url="https://o.example/rss")
    send_dead(env, fixed.id or "", DeadLetter(stage="clean", error="KeyError: 'lang'",
                                              payload=fixed.model_dump_json()))
    env.ingest([RawArticle(url="https://consent.example/world/x", html=CONSENT,
                           title="Before you continue", source="Consent Outlet")])
    env.start_worker()
    index = DeadLetterIndex.connect(env.elasticsearch, env.prefix)
    store = env.store()
    try:
        def rows() -> list[DeadRow]:
            index.refresh()
            return index.dead_rows()

        def held() -> list[str]:
            return sorted(r.stage + ":" + r.reason.split(":")[0] for r in rows())

        env.wait_for("both letters indexed", lambda: held() == ["clean:KeyError",
                                                                "clean:NotAnArticle"])
        before = {d["key"]: d for d in listed(env)}
        assert before["replayed-1"]["source"] == \
            "https://o.example/rss, https://o.example/world/pact"
        consent_key = next(k for k in before if k != "replayed-1")
        assert "consent" in before[consent_key]["reason"]
        assert before[consent_key]["preview"] == "Before you continue"
        assert all(d["at"].endswith("Z") for d in before.values())
        web = TestClient(create_app(store, env.settings))  # the page reads the same index
        assert {d["key"] for d in web.get("/api/dead-letters").json()["dead_letters"]} == \
            set(before)
        assert 'newswire_dead_letters{reason="consent",stage="clean"} 1.0' in \
            web.get("/metrics").text

        replay = newswire(env.config_dir, env.data_dir, "--backend", "kafka", "dead-letters",
                          "replay", env=env.env)
        assert "2 sent back to Kafka" in replay.stderr, replay.stderr
        env.wait_for("the replayed article indexed", lambda: env.indexed(store) == 1)
        assert store.article("replayed-1") is not None

        def failed_again() -> bool:
            index.refresh()
            rows = {r.key: r for r in index.dead_rows() if r.stage != "alert"}
            return list(rows) == [consent_key] and \
                rows[consent_key].at > datetime_of(before[consent_key]["at"])
        env.wait_for("the consent page dead-lettered again", failed_again)

        # the replayed article fired its alert, whose first delivery failed: replay it
        env.wait_for("the failed alert dead-lettered", lambda: "alert" in [
            r.stage for r in rows()])
        alert = newswire(env.config_dir, env.data_dir, "--backend", "kafka", "dead-letters",
                         "replay", "--stage", "alert", env=env.env)
        assert "1 sent back to Kafka" in alert.stderr, alert.stderr
        env.wait_for("the alert delivered", lambda: len(hook.bodies("/flaky/1")) == 1)
        env.wait_for("the alert log says delivered", lambda: [
            e.state for e in store.alert_log()] == ["delivered"])
        assert [d["stage"] for d in listed(env)] == ["clean"]

        purged = newswire(env.config_dir, env.data_dir, "--backend", "kafka", "dead-letters",
                          "purge", "--before", "now+1d", env=env.env)
        assert "purged 1 dead letter" in purged.stderr
        assert listed(env) == []
    finally:
        index.close()
        store.close()


def datetime_of(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_bad_archive_lines_ingested_through_kafka_are_listed(env: StreamEnv,
                                                             seeds: dict[str, str]) -> None:
    archive = env.data_dir.parent / "backfill.jsonl"
    good = {"url": "https://o.example/world/pact", "text": seeds["000"], "source": "Outlet"}
    archive.write_text(json.dumps(good) + "\n{not json\n" + json.dumps({"title": "no url"})
                       + "\n")
    out = newswire(env.config_dir, env.data_dir, "--backend", "kafka", "ingest", str(archive),
                   env=env.env)
    assert "2 bad lines dead-lettered" in out.stderr, out.stderr
    env.start_worker()
    env.wait_for("the bad lines listed", lambda: len(listed(env)) == 2)
    rows = sorted(listed(env), key=lambda d: d["source"])
    assert [d["source"] for d in rows] == [f"{archive}:2", f"{archive}:3"]
    assert {d["stage"] for d in rows} == {"ingest"}
