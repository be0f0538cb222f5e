"""Channel settings: the ``smtp:`` and ``delivery:`` sections of ``config/alerts.yaml``.

Validated once at start-up by ``load_settings``; secrets (webhook keys, the SMTP password)
are resolved from the environment variables the configuration names, here and nowhere else.

    smtp:
      host: smtp.example.org      port: 587        starttls: true     ssl: false
      username: newswire          password_env: NEWSWIRE_SMTP_PASSWORD
      sender: newswire@example.org                 ca_file: null      timeout: 20
    delivery:
      attempts: 4   backoff: 0.5   max_backoff: 8   timeout: 10   deadline: 60
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from pipeline.models import AlertRule
from pipeline.notify.spec import split


class SmtpSettings(BaseModel):
    """Where ``email:`` channels send from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(default=587, ge=1, le=65535)
    starttls: bool = True
    ssl: bool = Field(default=False, description="implicit TLS (port 465) instead of STARTTLS")
    username: str | None = None
    password_env: str | None = Field(default=None, description="env variable with the password")
    sender: str = "newswire@localhost"
    ca_file: Path | None = Field(default=None, description="CA bundle for a private server")
    timeout: float = Field(default=20.0, gt=0)


class RetryPolicy(BaseModel):
    """Retries with jittered exponential backoff, per delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    attempts: int = Field(default=4, ge=1)
    backoff: float = Field(default=0.5, ge=0, description="seconds before the first retry")
    max_backoff: float = Field(default=8.0, ge=0)
    timeout: float = Field(default=10.0, gt=0, description="seconds per request")
    deadline: float = Field(default=60.0, gt=0, description="seconds per delivery, all tries")


class ChannelSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    smtp: SmtpSettings | None = None
    delivery: RetryPolicy = RetryPolicy()
    smtp_password: SecretStr | None = None
    secrets: dict[str, SecretStr] = Field(default_factory=dict)  # "rule\x1fchannel" -> key
    missing: dict[str, str] = Field(default_factory=dict)  # "rule\x1fchannel" -> env name

    def secret_for(self, rule: str, channel: str) -> SecretStr | None:
        return self.secrets.get(f"{rule}\x1f{channel}")

    def missing_for(self, rule: str, channel: str) -> str | None:
        return self.missing.get(f"{rule}\x1f{channel}")


def build_channel_settings(rules: Iterable[AlertRule], env: Mapping[str, str],
                           smtp: SmtpSettings | None = None,
                           delivery: RetryPolicy | None = None) -> ChannelSettings:
    """Resolve each rule's webhook secrets (``secrets[spec]`` or ``secret_env``) and the
    SMTP password from ``env``; a named variable that is unset is remembered, and deliveries
    on that channel are refused with its name (never sent unsigned)."""
    secrets: dict[str, SecretStr] = {}
    missing: dict[str, str] = {}
    for rule in rules:
        for channel in rule.channels:
            if split(channel)[0] != "webhook":
                continue
            name = rule.secrets.get(channel) or rule.secret_env
            if not name:
                continue
            if env.get(name):
                secrets[f"{rule.name}\x1f{channel}"] = SecretStr(env[name])
            else:
                missing[f"{rule.name}\x1f{channel}"] = name
    password = None
    if smtp and smtp.password_env and env.get(smtp.password_env):
        password = SecretStr(env[smtp.password_env])
    return ChannelSettings(smtp=smtp, delivery=delivery or RetryPolicy(), smtp_password=password,
                           secrets=secrets, missing=missing)
