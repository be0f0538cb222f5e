"""`newswire dead-letters` (list, --json, replay, purge) as a user runs it, on SQLite."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import REPO, newswire, newswire_json
from tests.fixtures.servers import WebhookServer

CONSENT = (REPO / "tests" / "fixtures" / "clean_consent.html").read_text()


def setup(tmp: Path, hook: str, seeds: dict[str, str]) -> tuple[Path, Path, Path]:
    config, data = tmp / "config", tmp / "data"
    config.mkdir()
    (config / "topics.yaml").write_text((REPO / "config" / "topics.yaml").read_text())
    (config / "alerts.yaml").write_text(yaml.safe_dump({
        "rules": [{"name": "pact", "query": "topic:security-pacts",
                   "channels": [f"webhook:{hook}/flaky/1"]}],
        "delivery": {"attempts": 1, "timeout": 5, "deadline": 10}}))
    archive = tmp / "archive.jsonl"
    archive.write_text("\n".join([
        json.dumps({"url": "https://o.example/world/pact", "text": seeds["000"],
                    "source": "Outlet", "published": "2024-06-13T09:00:00Z"}),
        json.dumps({"url": "https://consent.example/world/x", "html": CONSENT,
                    "title": "Before you continue", "source": "Consent Outlet"}),
        '{"url": "https://x.example/broken", "title": ',
        json.dumps({"title": "no url here"}),
    ]) + "\n")
    return config, data, archive


def test_list_replay_purge(tmp_path: Path, seeds: dict[str, str]) -> None:
    with WebhookServer() as hook:
        config, data, archive = setup(tmp_path, hook.url, seeds)
        newswire(config, data, "ingest", str(archive))
        letters = newswire_json(config, data, "dead-letters")["dead_letters"]
        assert all(set(d) == {"key", "stage", "reason", "at", "source", "preview"}
                   for d in letters)
        assert all(d["at"].endswith("Z") for d in letters)
        by_stage = {d["stage"]: d for d in letters}
        assert sorted(d["stage"] for d in letters) == ["alert", "clean", "ingest", "ingest"]
        assert "consent" in by_stage["clean"]["reason"]
        assert by_stage["clean"]["source"] == "https://consent.example/world/x"
        assert by_stage["clean"]["preview"] == "Before you continue"
        assert {d["source"] for d in letters if d["stage"] == "ingest"} == {
            f"{archive}:3", f"{archive}:4"}
        assert "500" in by_stage["alert"]["reason"]

        table = newswire(config, data, "dead-letters", env={"COLUMNS": "200"})
        assert by_stage["clean"]["key"] in table.stdout and "4 dead letters" in table.stderr
        ingest = newswire_json(config, data, "dead-letters", "--stage", "ingest")
        assert len(ingest["dead_letters"]) == 2
        later = newswire_json(config, data, "dead-letters", "--since", "now+1d")
        assert later["dead_letters"] == []
        bad = newswire(config, data, "dead-letters", "--since", "yesterday", check=False)
        assert bad.returncode == 2 and "invalid --since 'yesterday'" in bad.stderr

        # the webhook is up now: the alert goes through and leaves the list
        alert_key = by_stage["alert"]["key"]
        done = newswire(config, data, "dead-letters", "replay", alert_key)
        assert "1 went through" in done.stderr
        assert len(hook.bodies("/flaky/1")) == 1
        left = newswire_json(config, data, "dead-letters")["dead_letters"]
        assert alert_key not in {d["key"] for d in left} and len(left) == 3

        # the consent page and the bad lines fail again: they stay, with their new time
        again = newswire(config, data, "dead-letters", "replay", check=False)
        assert again.returncode == 1 and "3 failed again" in again.stderr
        after = {d["key"]: d for d in newswire_json(config, data, "dead-letters")["dead_letters"]}
        clean_key = by_stage["clean"]["key"]
        assert after[clean_key]["at"] > by_stage["clean"]["at"]
        assert "consent" in after[clean_key]["reason"]
        unknown = newswire(config, data, "dead-letters", "replay", "nope", check=False)
        assert unknown.returncode == 1 and "nope: no such dead letter" in unknown.stderr
        stats = newswire(config, data, "ingest", str(archive), check=False)  # idempotent
        assert "processed 0" in stats.stderr

        bad_purge = newswire(config, data, "dead-letters", "purge", "--before", "soon",
                             check=False)
        assert bad_purge.returncode == 2 and "invalid --before" in bad_purge.stderr
        purged = newswire(config, data, "dead-letters", "purge", "--before", "now+1d",
                          "--stage", "ingest")
        assert "purged 2 dead letters" in purged.stderr
        assert newswire(config, data, "dead-letters", "purge", "--before",
                        "2020-01-01").stderr.startswith("purged 0 dead letters")
        newswire(config, data, "dead-letters", "purge", "--before", "now+1d")
        empty = newswire(config, data, "dead-letters")
        assert "no dead letters" in empty.stderr
