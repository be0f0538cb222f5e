"""`newswire search` filters, `story`, and `web`'s token rule, through the real CLI app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline.cli.app import app
from pipeline.config.settings import Settings
from pipeline.storage.sqlite.store import SqliteStore


def cli(settings: Settings, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(settings.config_dir), "--data-dir",
                                      str(settings.data_dir), *args], env={"COLUMNS": "200"})
    return result.exit_code, result.output


def test_search_filters_paging_and_by_story(store: SqliteStore, settings: Settings) -> None:
    code, out = cli(settings, "search", "security", "--topic", "nato", "--json")
    body = json.loads(out)
    assert code == 0 and [h["id"] for h in body["hits"]] == ["a1"]
    assert body["query"] == '(security) AND topic:"nato"'
    code, out = cli(settings, "search", "--source", "wire", "--lang", "en", "--json")
    assert {h["id"] for h in json.loads(out)["hits"]} == {"a0", "a3"}
    code, out = cli(settings, "search", "security", "--limit", "2", "--page", "2", "--json")
    assert json.loads(out)["page"] == 2 and len(json.loads(out)["hits"]) == 2
    code, out = cli(settings, "search", "agreement", "--by-story", "--json")
    assert {s["story_id"] for s in json.loads(out)["stories"]} == {"s-pact", "s-evil"}
    code, out = cli(settings, "search", "agreement", "--since", "2024-06-14", "--json")
    assert json.loads(out)["hits"] == []
    code, out = cli(settings, "search", "pact AND (")
    assert code == 2 and "query error" in out


def test_story_timeline(store: SqliteStore, settings: Settings) -> None:
    code, out = cli(settings, "story", "s-pact", "--json")
    body = json.loads(out)
    assert code == 0 and [a["source"] for a in body["articles"]] == ["wire", "paper", "daily"]
    assert body["articles"][1]["near_copy_of"] == "a0"
    code, out = cli(settings, "story", "s-pact")
    assert code == 0 and "near-copy of a0" in out
    code, _ = cli(settings, "story", "nope")
    assert code == 1


def test_web_refuses_to_serve_off_loopback_without_a_token(settings: Settings) -> None:
    result = CliRunner().invoke(app, ["--config", str(settings.config_dir), "web", "--host",
                                      "0.0.0.0"], env={"NEWSWIRE_WEB_TOKEN": ""})
    assert result.exit_code == 2 and "NEWSWIRE_WEB_TOKEN" in result.output
