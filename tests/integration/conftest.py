"""Integration fixtures: the real Kafka broker and Elasticsearch (``scripts/services start``).

Each test gets its own topic prefix, consumer group and index prefix, so tests never see
each other's data. Servers not reachable: a failure under CI=true, else a loud skip.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from elasticsearch import ApiError, Elasticsearch

from pipeline.config.settings import Settings, load_settings
from pipeline.models import DeadLetter, RawArticle
from pipeline.runtime.kafka.admin import ensure_topics, stream_config
from pipeline.runtime.kafka.poller import ingest_to_kafka
from pipeline.storage.elasticsearch.store import ElasticsearchStore, IndexNames, drop
from tests.conftest import IN_CI, REPO, stop_process

KAFKA = os.environ.get("NEWSWIRE_KAFKA", "127.0.0.1:9092")
ELASTICSEARCH = os.environ.get("NEWSWIRE_ELASTICSEARCH", "http://127.0.0.1:9200")


def _kafka_reachable() -> str | None:
    host, _, port = KAFKA.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=3):
            pass
    except OSError as exc:
        return f"Kafka not reachable at {KAFKA}: {exc}"
    from aiokafka.admin import AIOKafkaAdminClient

    async def probe() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA, request_timeout_ms=5000)
        await admin.start()
        try:
            await admin.list_topics()
        finally:
            await admin.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # noqa: BLE001 - any failure means "not usable"
        return f"Kafka at {KAFKA} does not answer: {exc!r}"
    return None


def _es_reachable() -> str | None:
    client = Elasticsearch(ELASTICSEARCH, request_timeout=5)
    try:
        health = client.cluster.health(wait_for_status="yellow", timeout="10s")
        if health["status"] not in ("green", "yellow"):
            return f"Elasticsearch at {ELASTICSEARCH} is {health['status']}"
    except Exception as exc:  # noqa: BLE001
        return f"Elasticsearch not reachable at {ELASTICSEARCH}: {exc!r}"
    finally:
        client.close()
    return None


def _require(problem: str | None) -> None:
    if problem is None:
        return
    message = f"{problem} -- start them with `scripts/services start`"
    if IN_CI:
        pytest.fail(f"CI=true and a real server is missing: {message}")
    print(f"\n!!! SKIPPING INTEGRATION TEST: {message} !!!\n")
    pytest.skip(f"!!! {message} !!!")


@pytest.fixture(scope="session")
def es_url() -> str:
    _require(_es_reachable())
    return ELASTICSEARCH


@pytest.fixture(scope="session")
def kafka_url() -> str:
    _require(_kafka_reachable())
    return KAFKA


@pytest.fixture
def unique() -> str:
    return "t" + uuid.uuid4().hex[:10]


@pytest.fixture
def es_names(es_url: str, unique: str) -> Iterator[IndexNames]:
    names = IndexNames(f"nwtest-{unique}")
    yield names
    client = Elasticsearch(es_url)
    drop(client, names)
    client.close()


def make_settings(tmp: Path, unique: str, **overrides: object) -> Settings:
    return load_settings(REPO / "config", env={}, data_dir=tmp / "data", kafka=KAFKA,
                         elasticsearch=ELASTICSEARCH, topic_prefix=f"nwtest-{unique}",
                         index_prefix=f"nwtest-{unique}", **overrides)


RULES = """rules:
  - name: ukraine-security-pact
    query: >-
      (ukraine OR ukrainian OR kyiv) AND ("united states" OR US OR washington OR biden
      OR american) AND topic:security-pacts
    channels: ["jsonl:alerts.jsonl"]
  - name: frozen-assets-moves
    query: topic:frozen-assets
    channels: ["jsonl:alerts.jsonl"]
"""


class StreamEnv:
    """One test's own Kafka topics, consumer group, ES indices, config and worker processes."""

    def __init__(self, tmp: Path, unique: str, kafka: str = KAFKA,
                 elasticsearch: str = ELASTICSEARCH) -> None:
        self.kafka, self.elasticsearch = kafka, elasticsearch  # tests/integration/faults: their own
        self.config_dir = tmp / "config"
        self.config_dir.mkdir()
        (self.config_dir / "topics.yaml").write_text(
            (REPO / "config" / "topics.yaml").read_text(encoding="utf-8"), encoding="utf-8")
        (self.config_dir / "alerts.yaml").write_text(RULES, encoding="utf-8")
        self.data_dir = tmp / "data"
        self.prefix = f"nwtest-{unique}"
        self.settings = load_settings(self.config_dir, env={}, data_dir=self.data_dir,
                                      kafka=kafka, elasticsearch=elasticsearch,
                                      topic_prefix=self.prefix, index_prefix=self.prefix)
        self.env = {**os.environ, "NEWSWIRE_KAFKA": kafka,
                    "NEWSWIRE_ELASTICSEARCH": elasticsearch,
                    "NEWSWIRE_TOPIC_PREFIX": self.prefix, "NEWSWIRE_INDEX_PREFIX": self.prefix,
                    "NEWSWIRE_LOG_LEVEL": os.environ.get("NEWSWIRE_LOG_LEVEL", "info")}
        self.env.pop("NEWSWIRE_BACKEND", None)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.logs = tmp / "logs"
        self.logs.mkdir()

    # -- processes -----------------------------------------------------------------------
    def start_worker(self) -> subprocess.Popen[bytes]:
        with (self.logs / f"worker-{len(self.workers)}.log").open("wb") as log:
            proc = subprocess.Popen(  # the child keeps its own descriptor of the log
                [sys.executable, "-m", "pipeline", "--config", str(self.config_dir),
                 "--data-dir", str(self.data_dir), "worker"],
                cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.workers.append(proc)
        return proc

    def with_feed(self, url: str, name: str) -> Settings:
        """This test's settings with ``url`` as the one feed in feeds.yaml (for a poller)."""
        (self.config_dir / "feeds.yaml").write_text(
            f"feeds:\n  - url: {url}\n    name: {name}\n", encoding="utf-8")
        return load_settings(self.config_dir, env={}, **{
            k: getattr(self.settings, k) for k in
            ("data_dir", "kafka", "elasticsearch", "topic_prefix", "index_prefix")})

    def worker_logs(self) -> str:
        return "\n".join(p.read_text(errors="replace")[-4000:] for p in sorted(self.logs.iterdir()))

    def close(self) -> None:
        for proc in self.workers:
            stop_process(proc, grace=20)
        client = Elasticsearch(self.elasticsearch)
        drop(client, IndexNames(self.prefix))
        client.close()
        asyncio.run(_delete_topics(self.prefix, self.kafka))

    # -- data ----------------------------------------------------------------------------
    def store(self) -> ElasticsearchStore:
        return ElasticsearchStore.connect(self.elasticsearch, self.prefix)

    def ingest(self, raws: list[RawArticle]) -> int:
        return asyncio.run(ingest_to_kafka(self.settings, raws))

    def produce_raw_bytes(self, items: list[tuple[str, bytes]]) -> None:
        async def go() -> None:
            await ensure_topics(stream_config(self.settings))
            producer = AIOKafkaProducer(bootstrap_servers=self.kafka)
            await producer.start()
            try:
                for key, value in items:
                    await producer.send_and_wait(f"{self.prefix}.raw", value, key=key.encode())
            finally:
                await producer.stop()
        asyncio.run(go())

    def dead_letters(self, at_least: int, timeout: float = 60,
                     quiet: float = 0.0) -> list[tuple[str | None, Any]]:
        """(key, letter) from this test's dead topic: at least ``at_least`` of them, and with
        ``quiet`` everything until that many seconds pass without a new one."""
        async def go() -> list[tuple[str | None, Any]]:
            consumer = AIOKafkaConsumer(f"{self.prefix}.dead", bootstrap_servers=self.kafka,
                                        auto_offset_reset="earliest", enable_auto_commit=False)
            await consumer.start()
            out: list[tuple[str | None, Any]] = []
            try:
                deadline = last = time.monotonic()
                deadline += timeout
                while (len(out) < at_least or time.monotonic() - last < quiet) \
                        and time.monotonic() < deadline:
                    batch = await consumer.getmany(timeout_ms=300 if quiet else 1000)
                    for records in batch.values():
                        last = time.monotonic()
                        out += [(r.key.decode() if r.key else None,
                                 DeadLetter.model_validate_json(r.value)) for r in records]
            finally:
                await consumer.stop()
            return out
        return asyncio.run(go())

    def wait_for(self, what: str, check: Callable[[], bool], timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check():
                return
            for proc in self.workers[-1:]:
                if proc.poll() is not None:
                    pytest.fail(f"worker exited ({proc.returncode}) waiting for {what}:\n"
                                f"{self.worker_logs()}")
            time.sleep(0.5)
        pytest.fail(f"timed out after {timeout}s waiting for {what}\n{self.worker_logs()}")

    def uncommitted(self) -> dict[tuple[str, int], int]:
        """Messages past the worker group's committed offset, per (topic suffix, partition)."""
        async def go() -> dict[tuple[str, int], int]:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.kafka)
            consumer = AIOKafkaConsumer(bootstrap_servers=self.kafka)
            await admin.start()
            await consumer.start()
            try:
                committed = await admin.list_consumer_group_offsets(f"{self.prefix}-worker")
                read = [f"{self.prefix}.{t}" for t in ("raw", "clean", "enriched", "alerts")]
                mine = [TopicPartition(d["topic"], p["partition"])
                        for d in await admin.describe_topics(read) for p in d["partitions"]]
                ends = await consumer.end_offsets(mine)
            finally:
                await consumer.stop()
                await admin.close()
            done = {tp: max(meta.offset, 0) for tp, meta in committed.items()}
            return {(tp.topic.rsplit(".", 1)[-1], tp.partition): ends[tp] - done.get(tp, 0)
                    for tp in mine if ends[tp] > done.get(tp, 0)}
        return asyncio.run(go())

    def indexed(self, store: ElasticsearchStore) -> int:
        try:
            store.refresh()
            return store.count("articles")
        except ApiError as exc:  # the index is being created (shards not allocated yet)
            if exc.status_code == 503:
                return 0
            raise


async def _delete_topics(prefix: str, kafka: str = KAFKA) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(prefix)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


@pytest.fixture
def stream_env(tmp_path: Path, unique: str, kafka_url: str, es_url: str) -> Iterator[StreamEnv]:
    env = StreamEnv(tmp_path, unique)
    try:
        yield env
    finally:
        env.close()
