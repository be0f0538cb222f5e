"""Configuration: ``config/*.yaml`` and the environment, validated once into frozen models.

Files in the config directory (all optional but feeds.yaml for ``run``):
    newswire.yaml   settings below       feeds.yaml   ``feeds: [{url, name}]``
    topics.yaml     ``topics: [{name, query, description}]``
    alerts.yaml     ``rules: [{name, query, channels, mode, min_sources}]``, ``smtp:``,
                    ``delivery:`` (see config/alerts.py)
Every setting of newswire.yaml can be overridden by ``NEWSWIRE_<NAME>`` in the environment
(``NEWSWIRE_DATA_DIR``, ``NEWSWIRE_KAFKA_PARTITIONS``, ...); ``NEWSWIRE_CONFIG`` names the
directory. Only this package reads the environment and the config files; errors name the
file, the entry and what to do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.config.alerts import (
    ChannelSettings,
    RetryPolicy,
    SmtpSettings,
    build_channel_settings,
)
from pipeline.config.files import read_yaml
from pipeline.config.rules import rule_problem
from pipeline.errors import ConfigError
from pipeline.models import AlertRule, FeedSource
from pipeline.notify.spec import ChannelError, validate
from pipeline.processing.tag import TopicRule

Backend = Literal["embedded", "kafka"]
_SECTIONS = frozenset({"config_dir", "feeds", "topics", "rules", "channels"})  # not from env


class Settings(BaseModel):
    """Everything a runtime needs, validated at start-up."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    config_dir: Path
    data_dir: Path = Path("data")
    backend: Backend = "embedded"
    kafka: str = "127.0.0.1:9092"
    elasticsearch: str = "http://127.0.0.1:9200"
    topic_prefix: str = "newswire"
    index_prefix: str = "newswire"
    poll_interval: float = Field(default=300.0, gt=0, description="seconds between rounds")
    http_timeout: float = Field(default=20.0, gt=0)
    user_agent: str = "newswire/0.1 (+https://github.com/newswire)"
    # feed polling (pipeline.sources): per-feed adaptive interval within these bounds
    feed_min_interval: float = Field(default=60.0, gt=0, description="seconds, fastest poll")
    feed_max_interval: float = Field(default=21600.0, gt=0, description="seconds, slowest")
    feed_max_backoff: float = Field(default=86400.0, gt=0, description="seconds, on failure")
    poll_concurrency: int = Field(default=32, ge=1, description="feeds fetched at once")
    host_concurrency: int = Field(default=2, ge=1, description="requests at once per host")
    host_min_delay: float = Field(default=0.5, ge=0, description="seconds between starts")
    feed_max_bytes: int = Field(default=20 * 1024 * 1024, gt=0)
    allow_private_redirects: bool = False
    feed_alerts: str | None = Field(default=None, description="alert channel for broken "
                                    "or stale feeds: console, jsonl:PATH or webhook:URL")
    # Kafka backend (pipeline.runtime.kafka.worker): topic layout and worker batches
    kafka_partitions: int = Field(default=4, ge=1, description="partitions of the raw and "
                                  "enriched topics (the scaled-out stages), e.g. 4")
    worker_batch: int = Field(default=200, ge=1, description="events per worker batch: one "
                              "state journal, one Kafka round trip, one bulk request")
    worker_batch_within: float = Field(default=0.2, gt=0, description="seconds a worker "
                                       "waits to fill a batch before processing it")
    worker_digest_tick: float = Field(default=30.0, gt=0, description="seconds between the "
                                      "stateful worker's checks for due digests when idle")
    story_window_hours: float = Field(default=72.0, gt=0)
    feeds: tuple[FeedSource, ...] = ()
    topics: tuple[TopicRule, ...] = ()
    rules: tuple[AlertRule, ...] = ()
    channels: ChannelSettings = ChannelSettings()  # alerts.yaml smtp/delivery + secrets

    @field_validator("feed_alerts")
    @classmethod
    def _alert_channel(cls, value: str | None) -> str | None:
        try:
            return None if value is None else validate(value)
        except ChannelError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def db_path(self) -> Path:
        return self.data_dir / "newswire.db"


def _resolve(base: Path, value: str) -> str:
    """Feed paths in feeds.yaml are relative to the config directory."""
    if "://" in value or Path(value).is_absolute():
        return value
    return str((base / value).resolve())


def env_name(setting: str) -> str:
    return f"NEWSWIRE_{setting.upper()}"


ENV_VARIABLES = frozenset({"NEWSWIRE_CONFIG"} | {
    env_name(name) for name in Settings.model_fields if name not in _SECTIONS})


def _problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}"
                     for e in exc.errors())


def _entries(path: Path, key: str, data: dict[str, Any]) -> list[Any]:
    entries = data.get(key) or []
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: `{key}` must be a list (`{key}:` then `- ...` entries)")
    return entries


def _entry_name(entry: Any, index: int) -> str:
    name = entry.get("name") if isinstance(entry, dict) else None
    return f"{index + 1} ({name})" if name else str(index + 1)


def _feeds(path: Path, base: Path) -> tuple[FeedSource, ...]:
    feeds: list[FeedSource] = []
    for i, entry in enumerate(_entries(path, "feeds", read_yaml(path))):
        if isinstance(entry, dict) and "url" in entry:
            entry = {**entry, "url": _resolve(base, str(entry["url"]))}
        try:
            feeds.append(FeedSource.model_validate(entry))
        except ValidationError as exc:
            raise ConfigError(f"{path}: feed {_entry_name(entry, i)}: {_problems(exc)}; fix "
                              "or remove the entry (see README: Feeds)") from exc
    return tuple(feeds)


def _topics(path: Path) -> tuple[TopicRule, ...]:
    topics: list[TopicRule] = []
    first: dict[str, str] = {}
    for i, entry in enumerate(_entries(path, "topics", read_yaml(path))):
        try:
            topic = TopicRule.model_validate(entry)
        except ValidationError as exc:
            raise ConfigError(f"{path}: topic {_entry_name(entry, i)}: {_problems(exc)}; "
                              "fix the entry (see README: Topics)") from exc
        if topic.name in first:
            raise ConfigError(f"{path}: topic {_entry_name(entry, i)}: the name is already "
                              f"used by topic {first[topic.name]}; give each topic its own name")
        first[topic.name] = _entry_name(entry, i)
        topics.append(topic)
    return tuple(topics)


def _alerts(path: Path, topics: tuple[TopicRule, ...],
            env: Mapping[str, str]) -> tuple[tuple[AlertRule, ...], ChannelSettings]:
    data = read_yaml(path)
    rules: list[AlertRule] = []
    names = {t.name for t in topics}
    seen: set[str] = set()
    for i, entry in enumerate(_entries(path, "rules", data)):
        where = f"{path}: rule {_entry_name(entry, i)}"
        try:
            rule = AlertRule.model_validate(entry)
        except ValidationError as exc:
            raise ConfigError(f"{where}: {_problems(exc)}; fix the entry or remove it with "
                              "`newswire alerts remove NAME`") from exc
        problem = rule_problem(rule, names)
        if problem:
            raise ConfigError(f"{where}: {problem[0]}: {problem[1]}")
        if rule.name in seen:
            raise ConfigError(f"{where}: another rule has the same name; give each its own")
        seen.add(rule.name)
        rules.append(rule)
    try:
        smtp = SmtpSettings.model_validate(data["smtp"]) if data.get("smtp") else None
        delivery = RetryPolicy.model_validate(data.get("delivery") or {})
    except ValidationError as exc:
        raise ConfigError(f"{path}: smtp/delivery: {_problems(exc)}") from exc
    return tuple(rules), build_channel_settings(rules, env, smtp=smtp, delivery=delivery)


def load_settings(
    config_dir: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    *,
    alerts: bool = True,
    **overrides: Any,
) -> Settings:
    """Load and validate config/*.yaml, then apply NEWSWIRE_* env and explicit overrides.
    ``alerts=False`` skips alerts.yaml (commands that only read the store do not need it)."""
    env = dict(os.environ) if env is None else env
    given = config_dir or env.get("NEWSWIRE_CONFIG")
    base = Path(given or "config").resolve()
    if not base.is_dir():
        where = "./config" if not given else str(base)
        init = "newswire init" if not given else f"newswire init {base}"
        raise ConfigError(f"no config found: {where} is not a directory. Run `{init}` to "
                          "write a commented starter config there, or pass --config DIR "
                          "(env NEWSWIRE_CONFIG) naming your config directory")
    values: dict[str, Any] = read_yaml(base / "newswire.yaml")
    values["feeds"] = _feeds(base / "feeds.yaml", base)
    topics = _topics(base / "topics.yaml")
    values["topics"] = topics
    if alerts:
        values["rules"], values["channels"] = _alerts(base / "alerts.yaml", topics, env)
    for name in Settings.model_fields:
        if name not in _SECTIONS and env.get(env_name(name)):
            values[name] = env[env_name(name)]
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["config_dir"] = base
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration in {base}: {_problems(exc)} (newswire.yaml, "
                          "feeds.yaml or NEWSWIRE_* environment variables)") from exc
