"""The Kafka backend's Elasticsearch: index names, the search store, templates and indices."""

from __future__ import annotations

import asyncio
import logging
import time

from elasticsearch import AsyncElasticsearch, ConnectionTimeout, Elasticsearch
from elasticsearch import ConnectionError as ESConnectionError

from pipeline.config.settings import Settings
from pipeline.errors import SinkUnavailable
from pipeline.storage.elasticsearch.store import ElasticsearchStore, IndexNames, install

logger = logging.getLogger(__name__)


def index_names(settings: Settings) -> IndexNames:
    return IndexNames(settings.index_prefix)


def search_store(settings: Settings) -> ElasticsearchStore:
    """The SearchStore of the Kafka backend (CLI search, stories, export, alerts log)."""
    return ElasticsearchStore.connect(settings.elasticsearch, settings.index_prefix)


def setup_elasticsearch(settings: Settings, *, wait: float = 120.0) -> None:
    """Install the index templates and create the aliased indices (idempotent).

    Waits up to ``wait`` seconds for Elasticsearch to answer (it may still be starting)."""
    client = Elasticsearch(settings.elasticsearch, request_timeout=30)
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                install(client, index_names(settings))
                return
            except (ESConnectionError, ConnectionTimeout) as exc:
                if time.monotonic() > deadline:
                    raise SinkUnavailable(f"Elasticsearch at {settings.elasticsearch}: {exc}",
                                          retry_after=5) from exc
                logger.warning("elasticsearch unreachable at=%s", settings.elasticsearch)
                time.sleep(2)
    finally:
        client.close()


async def install_async(client: AsyncElasticsearch, names: IndexNames) -> None:
    """``install`` for the nodes of an async client (the sink sets a cluster that came back
    empty up again with it); raises what ``install`` raises (the sink retries)."""
    nodes = [node.config for node in client.transport.node_pool.all()]

    def run() -> None:
        sync = Elasticsearch(nodes, request_timeout=30)
        try:
            install(sync, names)
        finally:
            sync.close()

    await asyncio.to_thread(run)
