"""The Kafka runtime's worker: the Faust app with the agents of one role.

    newswire worker   the agents of pipeline.runtime.kafka.agents   (run_worker, --role)
    newswire poll / ingest                                           (pipeline.runtime.kafka.poller)
    search / stories / export / alerts log ──▶ Elasticsearch        (storage.elasticsearch.setup)

Topic and consumer-group names come from ``Settings.topic_prefix``, index names from
``Settings.index_prefix``; tests give each run its own.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import MutableMapping
from datetime import timedelta
from typing import Any, TextIO

import faust

from pipeline.config.settings import Settings
from pipeline.notify.notifier import Notifier
from pipeline.processing.stages import Stages
from pipeline.runtime.kafka.admin import ensure_topics, stream_config
from pipeline.runtime.kafka.agents import Batching, register_agents
from pipeline.runtime.kafka.topics import Pipeline, Role, StreamConfig, create_app
from pipeline.runtime.reload import ConfigWatch, retarget
from pipeline.storage.elasticsearch.setup import setup_elasticsearch
from pipeline.storage.elasticsearch.sink import ElasticsearchSink


def build_worker(settings: Settings, *, out: TextIO | None = None,
                 config: StreamConfig | None = None, role: Role = "all",
                 watch: ConfigWatch | None = None) -> Pipeline:
    """The Faust app with the agents of ``role``; ``run_worker`` runs it, tests may too.
    Alert rules and topics are reloaded between batches when their files change (or on
    SIGHUP, see ``run_worker``); an invalid edit is refused and logged."""
    pipeline = create_app(config or stream_config(settings, role=role))
    watch = watch or ConfigWatch(settings)
    notifier = Notifier.from_settings(settings, out=out)

    def make_stages(cluster: MutableMapping[str, Any], alerts: MutableMapping[str, Any]) -> Stages:
        current = watch.settings
        return Stages(list(current.topics), list(current.rules), cluster, alerts,
                      timedelta(hours=settings.story_window_hours))

    def refresh() -> int:
        if watch.poll():
            retarget(notifier, watch.settings)
        return watch.generation

    sink = ElasticsearchSink.connect(settings.elasticsearch, settings.index_prefix)
    register_agents(pipeline, make_stages, sink, notifier, role=role, refresh=refresh,
                    batching=Batching(settings.worker_batch, settings.worker_batch_within,
                                      settings.worker_digest_tick))
    return pipeline


# The story state is hundreds of thousands of long-lived objects and every event allocates
# thousands of short-lived ones: at Python's default (700, 10, 10) collection passes took a
# fifth of the story agent's CPU. Cycles are rare here; reference counting frees the rest.
GC_THRESHOLDS = (20_000, 50, 100)


def run_worker(settings: Settings, *, loglevel: str = "warning",
               config: StreamConfig | None = None, role: Role = "all") -> None:
    """Blocking: set up Elasticsearch and the topics, then run the agents of ``role``
    (``all``; or ``stateless`` / ``stateful`` in separate processes) until SIGTERM."""
    config = config or stream_config(settings, role=role)
    setup_elasticsearch(settings)
    asyncio.run(ensure_topics(config))
    watch = ConfigWatch(settings)
    watch.on_sighup()  # reload alert rules and topics at the next batch
    pipeline = build_worker(settings, config=config, role=role, watch=watch)
    gc.set_threshold(*GC_THRESHOLDS)
    worker = faust.Worker(pipeline.app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
