"""Configuration: ``config/*.yaml`` validated once into frozen pydantic models.

Files in the config directory (all optional but feeds.yaml for ``run``):
    newswire.yaml   settings below       feeds.yaml   ``feeds: [{url, name}]``
    topics.yaml     ``topics: [{name, query, description}]``
    alerts.yaml     ``rules: [{name, query, channels, mode, min_sources}]``
Environment variables override settings: NEWSWIRE_DATA_DIR, NEWSWIRE_BACKEND,
NEWSWIRE_KAFKA, NEWSWIRE_ELASTICSEARCH, NEWSWIRE_POLL_INTERVAL, NEWSWIRE_TOPIC_PREFIX,
NEWSWIRE_INDEX_PREFIX, NEWSWIRE_KAFKA_PARTITIONS. Nothing else in newswire reads the environment.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import ConfigError
from pipeline.models import AlertRule, FeedSource
from pipeline.processing.tag import TopicRule

Backend = Literal["embedded", "kafka"]
_ENV = {
    "data_dir": "NEWSWIRE_DATA_DIR",
    "backend": "NEWSWIRE_BACKEND",
    "kafka": "NEWSWIRE_KAFKA",
    "elasticsearch": "NEWSWIRE_ELASTICSEARCH",
    "poll_interval": "NEWSWIRE_POLL_INTERVAL",
    "topic_prefix": "NEWSWIRE_TOPIC_PREFIX",
    "index_prefix": "NEWSWIRE_INDEX_PREFIX",
    "kafka_partitions": "NEWSWIRE_KAFKA_PARTITIONS",
}


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

    @field_validator("feed_alerts")
    @classmethod
    def _alert_channel(cls, value: str | None) -> str | None:
        from pipeline.notify.notifier import ChannelError, Notifier

        try:
            return None if value is None else Notifier.validate(value)
        except ChannelError as exc:
            raise ValueError(str(exc)) from exc

    @property
    def db_path(self) -> Path:
        return self.data_dir / "newswire.db"


def _read_yaml(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _resolve(base: Path, value: str) -> str:
    """Feed paths in feeds.yaml are relative to the config directory."""
    if "://" in value or Path(value).is_absolute():
        return value
    return str((base / value).resolve())


def load_settings(
    config_dir: Path | str | None = None,
    env: dict[str, str] | None = None,
    **overrides: Any,
) -> Settings:
    """Load and validate config/*.yaml, then apply NEWSWIRE_* env and explicit overrides."""
    env = dict(os.environ) if env is None else env
    base = Path(config_dir or env.get("NEWSWIRE_CONFIG") or "config").resolve()
    if not base.is_dir():
        raise ConfigError(f"config directory {base} not found: pass --config DIR or set "
                          "NEWSWIRE_CONFIG")
    values: dict[str, Any] = _read_yaml(base / "newswire.yaml")
    feeds = _read_yaml(base / "feeds.yaml").get("feeds") or []
    for feed in feeds:
        if isinstance(feed, dict) and "url" in feed:
            feed["url"] = _resolve(base, str(feed["url"]))
    values["feeds"] = feeds
    values["topics"] = _read_yaml(base / "topics.yaml").get("topics") or []
    values["rules"] = _read_yaml(base / "alerts.yaml").get("rules") or []
    for key, var in _ENV.items():
        if env.get(var):
            values[key] = env[var]
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["config_dir"] = base
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration in {base}:\n{exc}") from exc
