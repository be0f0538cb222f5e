"""Integration fixtures: the real Kafka broker and Elasticsearch (``scripts/services start``).

Each test gets its own topic prefix, consumer group and index prefix, so tests never see
each other's data. Servers not reachable: a failure under CI=true, else a loud skip.
"""

from __future__ import annotations

import asyncio
import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from pipeline.config import Settings, load_settings
from pipeline.storage.elasticsearch_store import IndexNames, drop
from tests.conftest import IN_CI, REPO

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
