"""Webhook and Slack channels: JSON POST with retries, jittered backoff, timeout, HMAC.

    body = JSON (webhook: the event; slack: text + blocks)
    X-Newswire-Signature: sha256=HEX(HMAC-SHA256(secret, body))     (when the rule names one)
    X-Newswire-Delivery: stable id of (rule, story, event, channel) (receivers may dedupe)

2xx delivers; 408/429/5xx and network errors are retried (``Retry-After`` honoured, capped);
other statuses are refused for good.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from pipeline.config.alerts import RetryPolicy
from pipeline.errors import SinkUnavailable
from pipeline.models import AlertEvent
from pipeline.notify.spec import DeliveryRejected

logger = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Newswire-Signature"
T = TypeVar("T")


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


def backoff(policy: RetryPolicy, attempt: int, hint: float | None = None) -> float:
    """Seconds before retry ``attempt`` (1-based): exponential, half of it jittered."""
    step = min(policy.max_backoff, policy.backoff * 2 ** (attempt - 1))
    if hint is not None:
        step = min(policy.max_backoff, max(step, hint))
    return step / 2 + random.uniform(0, step / 2)  # noqa: S311 - jitter, not crypto


async def with_retries(policy: RetryPolicy, call: Callable[[], Awaitable[T]],
                       event: AlertEvent) -> T:
    """Run ``call`` until it succeeds, is refused for good, or attempts run out."""
    attempt = 0
    while True:
        attempt += 1
        event.attempts += 1
        try:
            return await call()
        except SinkUnavailable as exc:
            if attempt >= policy.attempts:
                raise SinkUnavailable(f"gave up after {attempt} attempts: {exc}") from exc
            pause = backoff(policy, attempt, exc.retry_after if exc.retry_after > 1 else None)
            logger.info("retrying alert rule=%s channel=%s attempt=%d in=%.2fs error=%s",
                        event.rule, event.channel, attempt, pause, exc)
            await asyncio.sleep(pause)


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
