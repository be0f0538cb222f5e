"""Webhook and Slack channels: JSON POST with retries, jittered backoff, timeout, HMAC.

    body = JSON (webhook: the event; slack: text + blocks)
    X-Newswire-Signature: sha256=HEX(HMAC-SHA256(secret, body))     (when the rule names one)
    X-Newswire-Delivery: stable id of (rule, story, event, channel) (receivers may dedupe)

2xx delivers; 408/429/5xx and network errors are retried (``Retry-After`` honoured, capped);
other statuses are refused for good. A rule that names a secret whose variable is unset is
refused before sending (never sent unsigned).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from pipeline.config.alerts import RetryPolicy
from pipeline.errors import SinkUnavailable
from pipeline.models import AlertEvent
from pipeline.notify.channel import DeliveryContext
from pipeline.notify.render import payload, slack_payload
from pipeline.notify.retry import with_retries
from pipeline.notify.spec import DeliveryRejected, check_url

SIGNATURE_HEADER = "X-Newswire-Signature"


def sign(secret: str | bytes, body: bytes) -> str:
    """The ``X-Newswire-Signature`` value for ``body``: ``sha256=`` + hex HMAC-SHA256."""
    key = secret.encode() if isinstance(secret, str) else secret
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str | bytes, body: bytes, signature: str) -> bool:
    """For receivers: constant-time check of a signature header."""
    return hmac.compare_digest(sign(secret, body), signature)


def delivery_id(event: AlertEvent) -> str:
    raw = f"{event.rule}\x1f{event.story_id}\x1f{event.event}\x1f{event.channel}"
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _retry_after(response: httpx.Response) -> float:
    try:
        return float(response.headers.get("Retry-After", "1"))
    except ValueError:
        return 1.0


async def post_json(client: httpx.AsyncClient, url: str, data: dict[str, Any],
                    event: AlertEvent, policy: RetryPolicy, secret: str | None = None) -> None:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "newswire-alerts",
               "X-Newswire-Event": event.kind, "X-Newswire-Delivery": delivery_id(event)}
    if secret is not None:
        headers[SIGNATURE_HEADER] = sign(secret, body)

    async def once() -> None:
        try:
            response = await client.post(url, content=body, headers=headers,
                                         timeout=policy.timeout)
        except httpx.TimeoutException as exc:
            raise SinkUnavailable(f"timeout after {policy.timeout:g}s posting to {url}") from exc
        except httpx.TransportError as exc:
            raise SinkUnavailable(f"{type(exc).__name__} posting to {url}: {exc}") from exc
        if response.is_success:
            return
        reason = f"HTTP {response.status_code} from {url}: {response.text[:200]}"
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            raise SinkUnavailable(reason, retry_after=_retry_after(response))
        raise DeliveryRejected(reason)

    await with_retries(policy, once, event)


class WebhookChannel:
    """``webhook:URL``: the event as JSON."""

    scheme = "webhook"

    def body(self, event: AlertEvent) -> dict[str, Any]:
        return payload(event)

    def validate(self, target: str) -> None:
        check_url(self.scheme, target)

    async def deliver(self, event: AlertEvent, target: str, context: DeliveryContext) -> None:
        settings = context.channels
        missing = settings.missing_for(event.rule, event.channel)
        if missing:
            raise DeliveryRejected(f"webhook secret: environment variable {missing} is "
                                   "not set (the rule names it; not sending unsigned)")
        secret = settings.secret_for(event.rule, event.channel)
        await post_json(context.client, target, self.body(event), event, settings.delivery,
                        secret.get_secret_value() if secret else None)


class SlackChannel(WebhookChannel):
    """``slack:URL``: Slack's incoming-webhook format (``text`` + ``blocks``)."""

    scheme = "slack"

    def body(self, event: AlertEvent) -> dict[str, Any]:
        return slack_payload(event)
