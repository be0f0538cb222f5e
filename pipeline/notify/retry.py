"""Retries of one delivery: jittered exponential backoff, ``Retry-After`` honoured (capped).

``SinkUnavailable`` is retried until ``policy.attempts`` run out; anything else (notably
``DeliveryRejected``) ends the delivery at once.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from pipeline.config.alerts import RetryPolicy
from pipeline.errors import SinkUnavailable
from pipeline.models import AlertEvent

logger = logging.getLogger(__name__)
T = TypeVar("T")


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
