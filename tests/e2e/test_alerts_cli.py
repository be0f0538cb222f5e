"""`newswire alerts add/list/remove/test/log` as a user runs them (real CLI, real servers)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import REPO, newswire, newswire_json
from tests.fixtures.servers import WebhookServer

KEYS = ["000", "001", "002", "003", "004"]


def config_dir(tmp: Path) -> Path:
    config = tmp / "config"
    config.mkdir()
    shutil.copy(REPO / "config" / "topics.yaml", config / "topics.yaml")
    (config / "alerts.yaml").write_text("# my rules\nrules: []\n")
    return config


def test_add_list_remove_with_validation(tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    newswire(config, data, "alerts", "add", "pact", "--query", "ukraine AND topic:nato",
             "--channel", "console", "--channel", "webhook:https://hooks.example.org/x",
             "--mode", "update", "--throttle", "30m", "--secret-env", "HOOK_KEY")
    rules = newswire_json(config, data, "alerts", "list")["rules"]
    assert [(r["name"], r["mode"], r["throttle"], r["secret_env"]) for r in rules] == [
        ("pact", "update", 1800.0, "HOOK_KEY")]
    assert (config / "alerts.yaml").read_text().startswith("# my rules\n")
    bad: list[tuple[list[str], str]] = [
        (["--query", "ukraine AND ("], "invalid --query"),
        (["--query", "x", "--channel", "sms:123"], "unknown alert channel 'sms:123'"),
        (["--query", "x", "--channel", "webhook:ftp://x"], "needs an http(s) URL"),
        (["--query", "x", "--channel", "email:nobody"], "email needs addresses"),
        (["--query", "x", "--mode", "weekly"], "mode"),
    ]
    for args, message in bad:
        result = newswire(config, data, "alerts", "add", "other", *args, check=False)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    dup = newswire(config, data, "alerts", "add", "pact", "--query", "x", check=False)
    assert dup.returncode == 2 and "--replace" in dup.stderr
    missing = newswire(config, data, "alerts", "remove", "nope", check=False)
    assert missing.returncode == 1 and "pact" in missing.stderr
    newswire(config, data, "alerts", "remove", "pact")
    assert newswire_json(config, data, "alerts", "list")["rules"] == []


def ingest_seeds(seeds: dict[str, str], config: Path, data: Path, tmp: Path) -> None:
    archive = tmp / "seeds.jsonl"
    archive.write_text("".join(json.dumps({
        "url": f"https://{k}.outlet.example/world/pact-{k}", "text": seeds[k],
        "source": f"Outlet {k}", "published": f"2024-06-13T0{i}:00:00Z"}) + "\n"
        for i, k in enumerate(KEYS)))
    newswire(config, data, "ingest", str(archive))


def test_alerts_test_shows_stories_that_would_fire(seeds: dict[str, str],
                                                   tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    ingest_seeds(seeds, config, data, tmp_path)
    found = newswire_json(config, data, "alerts", "test", "ukraine AND topic:security-pacts")
    [story] = found["stories"]
    assert story["would_fire"] and story["sources"] == 5
    strict = newswire_json(config, data, "alerts", "test", "ukraine AND topic:security-pacts",
                           "--min-sources", "6")["stories"][0]
    assert not strict["would_fire"] and strict["why_not"] == "5 of 6 sources"
    assert newswire_json(config, data, "alerts", "test", "earthquake")["stories"] == []
    bad = newswire(config, data, "alerts", "test", "ukraine AND (", check=False)
    assert bad.returncode == 2 and "invalid --query" in bad.stderr


def test_log_shows_dead_lettered_delivery_with_reason(seeds: dict[str, str],
                                                      tmp_path: Path) -> None:
    config, data = config_dir(tmp_path), tmp_path / "data"
    with WebhookServer() as server:
        rules: dict[str, Any] = {"delivery": {"attempts": 2, "backoff": 0.01, "timeout": 2},
                                 "rules": [{"name": "pact", "query": "topic:security-pacts",
                                            "secret_env": "HOOK_KEY", "channels": [
                                                f"webhook:{server.url}/down",
                                                f"webhook:{server.url}/ok", "jsonl:a.jsonl"]}]}
        (config / "alerts.yaml").write_text(yaml.safe_dump(rules))
        archive = tmp_path / "seeds.jsonl"
        archive.write_text("".join(json.dumps({
            "url": f"https://{k}.outlet.example/p-{k}", "text": seeds[k],
            "source": f"Outlet {k}"}) + "\n" for k in KEYS))
        newswire(config, data, "ingest", str(archive), env={"HOOK_KEY": "k"})
        assert len(server.bodies("/ok")) == 1 and server.counts["/down"] == 2
    log = newswire_json(config, data, "alerts", "log")["alerts"]
    by_channel = {a["channel"].rsplit("/", 1)[-1]: a for a in log}
    assert by_channel["down"]["state"] == "failed" and by_channel["down"]["dead_lettered"]
    assert "HTTP 500" in by_channel["down"]["error"]
    assert by_channel["ok"]["state"] == "delivered"
    assert by_channel["jsonl:a.jsonl"]["state"] == "delivered"
    table = newswire(config, data, "alerts", "log").stdout
    assert "dead-lettered" in table
