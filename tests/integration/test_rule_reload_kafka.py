"""Issue #16 item 3 on Kafka: a running `newswire worker` (real broker and Elasticsearch)
takes up an alert rule added to alerts.yaml between batches; an invalid edit before it is
refused with a message in the log and the previous rules stay in force."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.models import RawArticle
from tests.integration.conftest import RULES, StreamEnv

pytestmark = pytest.mark.integration


def raw(n: int, title: str) -> RawArticle:
    return RawArticle(url=f"https://reload.example/{n}", title=title, source=f"Outlet {n}",
                      published=datetime.now(UTC) - timedelta(minutes=n),
                      text=f"{title}. Officials said on Monday the work goes on in the region.")


def fired(env: StreamEnv) -> list[str]:
    path = env.data_dir / "alerts.jsonl"
    if not path.exists():
        return []
    return [json.loads(line)["rule"] for line in path.read_text().splitlines() if line.strip()]


def rewrite(env: StreamEnv, text: str) -> None:
    path = env.config_dir / "alerts.yaml"
    before = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_worker_reloads_rules_and_refuses_an_invalid_edit(stream_env: StreamEnv) -> None:
    env = stream_env
    env.start_worker()
    store = env.store()
    try:
        assert env.ingest([raw(1, "Quarry of Vendara closes after the storm")]) == 1
        env.wait_for("the first article", lambda: env.indexed(store) == 1)  # worker is up
        rewrite(env, RULES + "  - name: broken\n    query: 'harbour AND ('\n"
                             "    channels: [console]\n")
        assert env.ingest([raw(2, "Vineyards of Vendara flood after the storm")]) == 1
        env.wait_for("the second article", lambda: env.indexed(store) == 2)
        env.wait_for("the refusal", lambda: "config reload refused" in env.worker_logs())
        rewrite(env, RULES + "  - name: harbour-watch\n    query: harbour OR ferry\n"
                             '    channels: ["jsonl:alerts.jsonl"]\n')
        assert env.ingest([raw(3, "Harbour of Kalomiru opens a ferry pier")]) == 1
        env.wait_for("the new rule's alert", lambda: "harbour-watch" in fired(env))
        assert fired(env) == ["harbour-watch"]
        assert "config reloaded" in env.worker_logs()
    finally:
        store.close()
