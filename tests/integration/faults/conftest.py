"""Fault tests: a Kafka broker and an Elasticsearch node of their own, killed and restarted.

The shared servers (9092/9200) serve every other test at the same time, so the tests here
start their own pair with ``scripts/services`` (its own run dir and free ports) once per
module, and SIGKILL / restart only that pair (``Services``). Each test still has its own
topics and indices (``StreamEnv``), and adds a row to the fault table printed at the end
of the run (``FAULTS``): scenario, articles in, indexed, dead-lettered, duplicates, time
to resume.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pipeline.storage.elasticsearch.store import ElasticsearchStore
from tests.conftest import IN_CI, REPO
from tests.integration.conftest import StreamEnv

SCRIPT = REPO / "scripts" / "services"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Services:
    """A Kafka + Elasticsearch pair of this module's own (``scripts/services``, own run dir
    and ports). Only the processes named by its own pid files are ever killed."""

    def __init__(self, run: Path) -> None:
        self.run = run
        self.kafka_port, self.controller_port, self.es_port = (free_port() for _ in range(3))
        self.env = {**os.environ, "NEWSWIRE_SERVICES_RUN": str(run),
                    "NEWSWIRE_KAFKA_PORT": str(self.kafka_port),
                    "NEWSWIRE_KAFKA_CONTROLLER_PORT": str(self.controller_port),
                    "NEWSWIRE_ES_PORT": str(self.es_port)}
        self.kafka = f"127.0.0.1:{self.kafka_port}"
        self.elasticsearch = f"http://127.0.0.1:{self.es_port}"

    def start(self, *, keep: bool = True) -> float:
        """Start what is not running (``keep``: with its data, as a real restart does; else
        the restarted service's data dir is wiped); seconds until healthy."""
        began = time.monotonic()
        proc = subprocess.run([str(SCRIPT), "start", *(["--keep"] if keep else [])],
                              env=self.env, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"scripts/services start failed:\n{proc.stderr[-3000:]}")
        return time.monotonic() - began

    def stop(self) -> None:
        subprocess.run([str(SCRIPT), "stop"], env=self.env, capture_output=True, timeout=180)

    def kill(self, service: str) -> None:
        """SIGKILL one of this pair's servers (its pid file) and wait until its port is shut."""
        pidfile = {"kafka": self.run / "kafka.pid",
                   "elasticsearch": self.run / "elasticsearch" / "es.pid"}[service]
        port = {"kafka": self.kafka_port, "elasticsearch": self.es_port}[service]
        os.kill(int(pidfile.read_text().strip()), signal.SIGKILL)
        deadline = time.monotonic() + 30
        while port_open(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not port_open(port), f"{service} still answers on {port} after SIGKILL"


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    if shutil.which("java") is None and not any(Path("/usr/lib/jvm").glob("*")):
        message = "no Java: the fault tests start their own Kafka and Elasticsearch"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    run = Path(tempfile.mkdtemp(prefix="newswire-faults-"))
    run.chmod(0o755)  # Elasticsearch runs as its own user when root starts it
    pair = Services(run)
    try:
        pair.start(keep=False)
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(run, ignore_errors=True)


@pytest.fixture
def fault_env(tmp_path: Path, unique: str, services: Services) -> Iterator[StreamEnv]:
    env = StreamEnv(tmp_path, unique, kafka=services.kafka,
                    elasticsearch=services.elasticsearch)
    try:
        yield env
    finally:
        env.close()


# -- outcome -------------------------------------------------------------------------------

@dataclass
class Row:
    scenario: str
    articles_in: int
    indexed: int
    dead: int
    duplicates: int
    resume_s: float
    notes: str = ""


FAULTS: list[Row] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not FAULTS:
        return
    write = terminalreporter.write_line
    write("")
    write(f"{'fault scenario':<44} {'in':>5} {'indexed':>8} {'dead':>5} {'dups':>5} "
          f"{'resume s':>9}  notes")
    for r in FAULTS:
        write(f"{r.scenario:<44} {r.articles_in:>5} {r.indexed:>8} {r.dead:>5} "
              f"{r.duplicates:>5} {r.resume_s:>9.1f}  {r.notes}")


def record(row: Row) -> None:
    FAULTS.append(row)
    print(f"FAULT {json.dumps(row.__dict__)}")


def wait_until(what: str, check: Callable[[], bool], timeout: float,
               logs: Callable[[], str] = lambda: "") -> float:
    """Seconds until ``check()`` holds; fails the test naming ``what`` after ``timeout``."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        time.sleep(0.25)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{logs()}")


def indexed_count(env: StreamEnv, store: ElasticsearchStore) -> int:
    try:
        return env.indexed(store)
    except Exception:  # noqa: BLE001 - Elasticsearch is down or restarting: nothing to count
        return -1


def alert_lines(data_dir: Path) -> list[tuple[str, str, str]]:
    path = data_dir / "alerts.jsonl"
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [(r["rule"], r["story_id"], r["channel"]) for r in rows]


def check_stream(env: StreamEnv, store: ElasticsearchStore, urls: set[str],
                 timeout: float = 180, alert_log_kept: bool = True) -> tuple[int, int, int]:
    """Every article of ``urls`` indexed once or dead-lettered with its reason, each in
    exactly one story, every alert sent once and in the alert log (``alert_log_kept``; else
    only those sent since Elasticsearch lost it); returns (indexed, dead, duplicates)."""
    wait_until(f"{len(urls)} articles indexed", lambda: indexed_count(env, store) == len(urls),
               timeout, env.worker_logs)

    def alerted() -> bool:  # every story with the watched topic has its alert
        frozen = {s.id for s in store.stories() if "frozen-assets" in s.topics}
        return frozen <= {story for rule, story, _ in alert_lines(env.data_dir)
                          if rule == "frozen-assets-moves"}

    wait_until("every frozen-assets story alerted", alerted, 60, env.worker_logs)
    time.sleep(2)  # a second copy of anything would show now
    dead = env.dead_letters(0, quiet=1.5)
    assert not dead, f"dead-lettered during the fault: {[(k, d.error) for k, d in dead]}"
    exported = list(store.export())
    ids = Counter(a.id for a in exported)
    duplicates = sum(n - 1 for n in ids.values())
    assert duplicates == 0
    assert {a.url for a in exported} == urls, "an article was lost"
    stories = store.stories()
    in_stories = Counter(a for s in stories for a in s.article_ids)
    assert in_stories == ids, "an article is in no story or in two"
    lines = alert_lines(env.data_dir)
    assert lines and max(Counter(lines).values()) == 1, "an alert was sent twice"
    logged = Counter((e.rule, e.story_id, e.channel) for e in store.alert_log())
    assert (logged == Counter(lines)) if alert_log_kept else (logged <= Counter(lines))
    wait_until("every offset committed", lambda: not env.uncommitted(), 30, env.worker_logs)
    return len(exported), len(dead), duplicates


def sqlite_integrity(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()
