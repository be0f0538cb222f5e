"""The Kafka runtime through server and process failures, on a broker and an Elasticsearch
node of this module's own (``services``): each is SIGKILLed mid-stream and restarted, and
afterwards no article is lost or indexed twice and no alert is sent twice, with no human
touching the worker or the poller."""

from __future__ import annotations

import functools
import http.server
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any

import pytest

from pipeline.models import RawArticle
from tests.conftest import REPO, stop_process
from tests.integration.conftest import StreamEnv
from tests.integration.corpus import articles
from tests.integration.faults.conftest import (
    Row,
    Services,
    check_stream,
    indexed_count,
    record,
    wait_until,
)

pytestmark = pytest.mark.integration


def first_indexed_after(env: StreamEnv, store: Any, before: int, timeout: float) -> float:
    """Seconds until the index count rises above ``before`` (indexing resumed)."""
    return wait_until("indexing to resume", lambda: indexed_count(env, store) > before,
                      timeout, env.worker_logs)


def test_elasticsearch_killed_and_restarted_with_its_data(
        fault_env: StreamEnv, services: Services) -> None:
    env, raws = fault_env, articles(n_stories=40, seed=11)  # 200 articles
    env.start_worker()
    store = env.store()
    env.ingest(raws[:100])
    wait_until("some articles indexed", lambda: indexed_count(env, store) >= 30, 120,
               env.worker_logs)
    services.kill("elasticsearch")
    env.ingest(raws[100:])  # arrives while Elasticsearch is down: the sink must wait
    time.sleep(3)
    services.start(keep=True)
    before = indexed_count(env, store)
    resume = first_indexed_after(env, store, before, 120)
    indexed, dead, dups = check_stream(env, store, {str(r.url) for r in raws})
    assert env.workers[-1].poll() is None, "the worker died instead of waiting"
    record(Row("elasticsearch SIGKILL + restart (data kept)", len(raws), indexed, dead, dups,
               resume))


def test_elasticsearch_restarted_empty(fault_env: StreamEnv, services: Services) -> None:
    env, raws = fault_env, articles(n_stories=40, seed=12)
    env.start_worker()
    store = env.store()
    env.ingest(raws[:100])
    wait_until("the first half indexed", lambda: indexed_count(env, store) == 100, 120,
               env.worker_logs)
    services.kill("elasticsearch")
    services.start(keep=False)  # a new node / a wiped volume: no templates, no indices
    env.ingest(raws[100:])
    resume = first_indexed_after(env, store, 0, 120)
    indexed, dead, dups = check_stream(env, store, {str(r.url) for r in raws},
                                       alert_log_kept=False)  # alerts were not sent again
    logs = (env.logs / "worker-0.log").read_text(errors="replace")
    assert "installing templates and aliases again" in logs
    assert "came back empty: re-indexing" in logs
    mapping = store.client.indices.get_mapping(index=env.prefix + "-articles")
    assert all(m["mappings"].get("dynamic") in (False, "false") for m in mapping.values()), \
        "an index was created by a write (dynamic mapping), not from the template"
    assert env.workers[-1].poll() is None
    record(Row("elasticsearch restarted empty (data wiped)", len(raws), indexed, dead, dups,
               resume, "replayed from the enriched topic"))


def test_broker_killed_and_restarted(fault_env: StreamEnv, services: Services) -> None:
    env, raws = fault_env, articles(n_stories=40, seed=13)
    env.start_worker()
    store = env.store()
    env.ingest(raws[:150])
    wait_until("some articles indexed", lambda: indexed_count(env, store) >= 20, 120,
               env.worker_logs)
    services.kill("kafka")
    time.sleep(3)
    services.start(keep=True)
    before = indexed_count(env, store)
    env.ingest(raws[150:])
    resume = first_indexed_after(env, store, before, 180)
    indexed, dead, dups = check_stream(env, store, {str(r.url) for r in raws}, timeout=240)
    assert env.workers[-1].poll() is None, "the worker died with the broker"
    record(Row("kafka broker SIGKILL + restart (data kept)", len(raws), indexed, dead, dups,
               resume))


# -- the poller ------------------------------------------------------------------------------

class SlowFeeds(http.server.SimpleHTTPRequestHandler):
    """Serves the feeds folder; feed N answers after N × 0.1 s, so a round takes a while."""

    def do_GET(self) -> None:
        number = "".join(c for c in self.path if c.isdigit())
        time.sleep(0.1 * int(number or 0))
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def slow_feeds(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "www"
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(SlowFeeds, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def rss(raws: list[RawArticle]) -> str:
    items = "".join(
        f"<item><title>{escape(r.title or '')}</title><link>{escape(str(r.url))}</link>"
        f"<guid>{escape(str(r.url))}</guid>"
        f"<pubDate>{format_datetime(r.published) if r.published else ''}</pubDate>"
        "<content:encoded>" + escape("".join(f"<p>{p}</p>" for p in (r.text or "").split("\n\n")))
        + "</content:encoded></item>" for r in raws)
    return ('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Feed</title><link>https://feed.example/</link>{items}</channel></rss>")


def test_poller_killed_mid_round(fault_env: StreamEnv, slow_feeds: tuple[Path, str]) -> None:
    env, raws = fault_env, articles(n_stories=40, seed=14)
    root, base = slow_feeds
    feeds = 20
    for n in range(feeds):
        (root / f"feed{n}.xml").write_text(rss(raws[n::feeds]), encoding="utf-8")
    (env.config_dir / "feeds.yaml").write_text("feeds:\n" + "".join(
        f"  - url: {base}/feed{n}.xml\n    name: Feed {n}\n" for n in range(feeds)),
        encoding="utf-8")
    env.start_worker()
    store = env.store()
    poll = [sys.executable, "-m", "pipeline", "--config", str(env.config_dir), "--data-dir",
            str(env.data_dir), "poll", "--once"]
    with (env.logs / "poller-0.log").open("wb") as log:
        first = subprocess.Popen(poll, cwd=REPO, env=env.env, stdout=log,
                                 stderr=subprocess.STDOUT)
    try:
        wait_until("the poller to send part of the round",
                   lambda: indexed_count(env, store) >= 10, 60, env.worker_logs)
        first.send_signal(signal.SIGKILL)
        first.wait()
    finally:
        stop_process(first)
    at_kill = indexed_count(env, store)
    time.sleep(2)
    assert indexed_count(env, store) < len(raws), "the round finished before the kill"
    began = time.monotonic()
    with (env.logs / "poller-1.log").open("wb") as log:
        second = subprocess.run(poll, cwd=REPO, env=env.env, stdout=log,
                                stderr=subprocess.STDOUT, timeout=120)
    assert second.returncode == 0, env.worker_logs()
    resume = time.monotonic() - began
    indexed, dead, dups = check_stream(env, store, {str(r.url) for r in raws})
    record(Row("poller SIGKILL mid-round, rerun", len(raws), indexed, dead, dups, resume,
               f"{at_kill} indexed at the kill"))
