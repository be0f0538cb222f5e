"""Configuration is validated once, at load: every mistake names the file, the entry and what
to do; read-only commands do not need alert rules; every setting has its environment variable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.config.settings import ENV_VARIABLES, Settings, env_name, load_settings
from pipeline.errors import ConfigError
from tests.conftest import newswire

TOPICS = [{"name": "nato", "query": "nato OR alliance"}, {"name": "quakes", "query": "quake"}]


def write(config: Path, *, topics: list[dict[str, Any]] | None = None,
          rules: list[dict[str, Any]] | None = None, alerts: dict[str, Any] | None = None,
          feeds: list[dict[str, Any]] | None = None) -> Path:
    config.mkdir(exist_ok=True)
    (config / "topics.yaml").write_text(yaml.safe_dump({"topics": TOPICS if topics is None
                                                        else topics}))
    (config / "alerts.yaml").write_text(yaml.safe_dump({"rules": rules or [], **(alerts or {})}))
    (config / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds or []}))
    return config


def problem(config: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(config, env={})
    return str(caught.value)


def test_a_valid_configuration_loads_into_frozen_models(tmp_path: Path) -> None:
    config = write(tmp_path / "c", rules=[{"name": "n", "query": "topic:nato",
                                           "channels": ["console", "jsonl:a.jsonl"]}],
                   alerts={"smtp": {"host": "mail.example.org", "port": 465, "ssl": True,
                                    "password_env": "PW"}})
    settings = load_settings(config, env={"PW": "secret"})
    assert [r.name for r in settings.rules] == ["n"]
    assert settings.channels.smtp is not None and settings.channels.smtp.port == 465
    assert settings.channels.smtp_password is not None
    assert settings.channels.smtp_password.get_secret_value() == "secret"
    with pytest.raises(ValueError):
        settings.rules[0].name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("rule", "expected"), [
    ({"name": "typo", "query": "nato", "channels": ["webhok:https://x.example/h"]},
     "unknown alert channel 'webhok:https://x.example/h'"),
    ({"name": "broken", "query": "nato AND (", "channels": ["console"]}, "does not parse"),
    ({"name": "ghost", "query": "topic:ghosts", "channels": ["console"]},
     "ghosts not defined in topics.yaml"),
    ({"name": "ghost2", "query": "x", "topics": ["Ghosts"]}, "ghosts not defined"),
    ({"name": "bad name!", "query": "x"}, "name"),
])
def test_a_bad_rule_names_the_file_and_the_rule(tmp_path: Path, rule: dict[str, Any],
                                                expected: str) -> None:
    config = write(tmp_path / "c", rules=[{"name": "fine", "query": "nato"}, rule])
    message = problem(config)
    assert str(config / "alerts.yaml") in message and "rule 2" in message
    assert expected in message


def test_smtp_port_that_is_not_a_port_is_refused_at_load(tmp_path: Path) -> None:
    config = write(tmp_path / "c", alerts={"smtp": {"host": "h", "port": "not-a-port"}})
    message = problem(config)
    assert "alerts.yaml" in message and "smtp" in message and "port" in message


def test_a_duplicate_topic_name_is_refused(tmp_path: Path) -> None:
    config = write(tmp_path / "c", topics=[*TOPICS, {"name": "nato", "query": "otan"}])
    message = problem(config)
    assert "topics.yaml" in message and "topic 3 (nato)" in message and "topic 1" in message


def test_a_bad_feed_names_the_entry(tmp_path: Path) -> None:
    config = write(tmp_path / "c", feeds=[{"url": "https://ok.example/rss"},
                                          {"url": "ftp://bad.example/rss"}])
    message = problem(config)
    assert "feeds.yaml" in message and "feed 2" in message and "ftp://" in message


def test_read_only_loading_skips_a_broken_alerts_file(tmp_path: Path) -> None:
    config = write(tmp_path / "c")
    (config / "alerts.yaml").write_text("rules: [ {name: x, query: 'a AND ('} ]\n")
    assert "does not parse" in problem(config)
    assert load_settings(config, env={}, alerts=False).rules == ()


def test_every_setting_has_its_environment_variable(tmp_path: Path) -> None:
    config = write(tmp_path / "c")
    env = {"NEWSWIRE_WORKER_BATCH": "7", "NEWSWIRE_STORY_WINDOW_HOURS": "12",
           "NEWSWIRE_ALLOW_PRIVATE_REDIRECTS": "true", "NEWSWIRE_USER_AGENT": "ua/1"}
    settings = load_settings(config, env=env)
    assert (settings.worker_batch, settings.story_window_hours) == (7, 12.0)
    assert settings.allow_private_redirects and settings.user_agent == "ua/1"
    scalars = {n for n in Settings.model_fields if n not in
               ("config_dir", "feeds", "topics", "rules", "channels")}
    assert {env_name(n) for n in scalars} | {"NEWSWIRE_CONFIG"} == ENV_VARIABLES
    with pytest.raises(ConfigError, match="worker_batch"):
        load_settings(config, env={"NEWSWIRE_WORKER_BATCH": "many"})


def test_cli_reads_with_broken_rules_and_refuses_to_run_without_a_traceback(
        tmp_path: Path) -> None:
    config, data = write(tmp_path / "c"), tmp_path / "data"
    (config / "alerts.yaml").write_text("rules:\n  - name: typo\n    query: nato\n"
                                        "    channels: ['webhok:https://x.example/h']\n")
    for command in (["search", "nato"], ["stories"], ["export"], ["feeds"]):
        result = newswire(config, data, *command, check=False)
        assert result.returncode == 0, (command, result.stderr)
    result = newswire(config, data, "run", "--once", check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "alerts.yaml" in result.stderr and "rule 1 (typo)" in result.stderr
