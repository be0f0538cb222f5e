"""Issue #16 item 3 through the real CLI: a running `newswire run` takes up an alert rule
added to alerts.yaml (no restart); an invalid edit is refused and the previous rules stay;
`alerts add --since 24h` fires a new rule on the recent stories it matches, once."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest

from tests.conftest import REPO, newswire, stop_process

FAST = {"NEWSWIRE_POLL_INTERVAL": "1", "NEWSWIRE_FEED_MIN_INTERVAL": "1",
        "NEWSWIRE_FEED_MAX_INTERVAL": "1", "NEWSWIRE_LOG_LEVEL": "warning"}


def write_feed(path: Path, *titles: str) -> None:
    now = datetime.now(UTC)
    items = "".join(
        f"<item><title>{title}</title><link>https://r.example/{i}</link><guid>r{i}</guid>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=10 * (len(titles) - i)))}</pubDate>"
        f"<description>{title}. Officials said on Monday the work goes on in the region."
        f"</description></item>" for i, title in enumerate(titles))
    path.write_text('<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
                    f"<title>Local</title><link>https://r.example/</link>{items}"
                    "</channel></rss>", encoding="utf-8")


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, Path, Path]:
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    feed = tmp_path / "feed.xml"
    write_feed(feed, "Harbour of Kalomiru opens a ferry pier")
    (config / "feeds.yaml").write_text(f"feeds:\n  - url: {feed}\n    name: Local\n",
                                       encoding="utf-8")
    (config / "alerts.yaml").write_text("rules: []\n", encoding="utf-8")
    return config, tmp_path / "data", feed


@pytest.fixture
def running(setup: tuple[Path, Path, Path], tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    config, data, _ = setup
    with (tmp_path / "run.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(config), "--data-dir", str(data),
             "run"], cwd=REPO, env={**os.environ, **FAST}, stdout=log,
            stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        stop_process(proc)


def wait_for(what: str, check: Callable[[], bool], proc: subprocess.Popen[bytes],
             log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        if proc.poll() is not None:
            pytest.fail(f"run exited ({proc.returncode}): {log.read_text(errors='replace')}")
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}:\n{log.read_text(errors='replace')}")


def fired(data: Path) -> list[dict[str, object]]:
    path = data / "alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def test_running_run_reloads_a_rule_added_to_alerts_yaml(
        setup: tuple[Path, Path, Path], running: subprocess.Popen[bytes],
        tmp_path: Path) -> None:
    config, data, feed = setup
    log = tmp_path / "run.log"
    wait_for("the first item", lambda: (data / "newswire.db").exists()
             and "Kalomiru" in newswire(config, data, "search", "kalomiru").stdout,
             running, log)
    # an invalid edit: refused, logged with the file; the run goes on with no rules
    (config / "alerts.yaml").write_text("rules:\n  - name: broken\n    query: 'harbour AND ('\n"
                                        "    channels: [console]\n", encoding="utf-8")
    wait_for("the refusal", lambda: "config reload refused" in log.read_text(errors="replace"),
             running, log)
    (config / "alerts.yaml").write_text(
        "rules:\n  - name: harbour-watch\n    query: harbour OR ferry\n"
        '    channels: ["jsonl:alerts.jsonl"]\n', encoding="utf-8")
    time.sleep(1.5)  # the reload happens between batches; the next item comes after it
    write_feed(feed, "Harbour of Kalomiru opens a ferry pier",
               "Ferry line from Kalomiru harbour starts on Monday")
    wait_for("the alert", lambda: any(e["rule"] == "harbour-watch" for e in fired(data)),
             running, log)
    assert "config reload refused" in log.read_text(errors="replace")
    assert "alerts.yaml" in log.read_text(errors="replace")


def test_alerts_add_since_fires_on_recent_stories_once(setup: tuple[Path, Path, Path],
                                                       tmp_path: Path) -> None:
    config, data, feed = setup
    old = (datetime.now(UTC) - timedelta(days=3)).isoformat()
    archive = tmp_path / "old.jsonl"
    archive.write_text(json.dumps({
        "url": "https://old.example/pier", "source": "Old", "published": old,
        "title": "Quarry of Vendara closes", "text": "The quarry of Vendara closed."}) + "\n",
        encoding="utf-8")
    newswire(config, data, "ingest", str(archive))
    newswire(config, data, "run", "--once")  # the feed's harbour story, published just now
    added = newswire(config, data, "alerts", "add", "harbour-watch", "--query",
                     "harbour OR quarry", "--channel", "jsonl:alerts.jsonl", "--since", "24h")
    assert "fired harbour-watch on 1 stored story" in added.stdout, added.stdout
    events = fired(data)
    assert [(e["rule"], e["kind"]) for e in events] == [("harbour-watch", "new")]
    assert "Kalomiru" in str(events[0]["headline"])  # the 3-day-old quarry story is not
    logged = newswire(config, data, "alerts", "log", "--json").stdout
    assert "harbour-watch" in logged
    # never twice: a later article of the story, and the same --since again
    write_feed(feed, "Harbour of Kalomiru opens a ferry pier",
               "Harbour of Kalomiru opens a ferry pier, officials say")
    newswire(config, data, "run", "--once")
    again = newswire(config, data, "alerts", "add", "harbour-watch", "--replace", "--query",
                     "harbour OR quarry", "--channel", "jsonl:alerts.jsonl", "--since", "24h")
    assert "on 0 stored stories" in again.stdout
    assert len(fired(data)) == 1
    bad = newswire(config, data, "alerts", "add", "x", "--query", "a", "--since", "soon",
                   check=False)
    assert bad.returncode != 0 and "--since" in bad.stderr
