"""One failure policy for both runtimes: what a stage's exception means for its input.

    RetryableError (FetchError, SinkUnavailable, …)   wait ``retry_after`` seconds (1 s if
                                                      the error has none), retry: back-pressure,
                                                      never drop
    PoisonInputError                                  dead-letter, reason "{type}: {message}"
    any other Exception                               dead-letter the same way, logged with its
                                                      traceback: a bug on one odd input must not
                                                      stop the stream or the ingest

``attempt`` (async, for the event loop) and ``attempt_sync`` (for a process pool worker)
run one stage call under the policy and raise ``Failed`` with the dead-letter reason; the
runtime decides where the dead letter goes (the ``dead`` topic, SQLite's ``dead`` table).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TypeVar

from pipeline.errors import PoisonInputError, RetryableError

logger = logging.getLogger(__name__)
T = TypeVar("T")
DEFAULT_RETRY_AFTER = 1.0


class Failed(Exception):
    """A stage refused its input for good: ``str(self)`` is the dead-letter reason."""


def reason(exc: BaseException) -> str:
    """The dead-letter reason of a stage's exception: ``"{type}: {message}"``."""
    return f"{type(exc).__name__}: {exc}"


def retry_after(exc: RetryableError) -> float:
    """Seconds to wait before calling the stage again."""
    return float(getattr(exc, "retry_after", DEFAULT_RETRY_AFTER))


def failed(stage: str, exc: Exception) -> Failed:
    """The ``Failed`` for a non-retryable exception; unexpected ones are logged in full."""
    if not isinstance(exc, PoisonInputError):
        logger.error("stage failed stage=%s error=%s", stage, reason(exc), exc_info=exc)
    return Failed(reason(exc))


async def attempt(stage: str, call: Callable[..., T], *args: object) -> T:
    """Run ``call(*args)``: retry transient failures, raise ``Failed`` for anything else."""
    while True:
        try:
            return call(*args)
        except RetryableError as exc:
            logger.warning("retrying stage=%s error=%s", stage, exc)
            await asyncio.sleep(retry_after(exc))
        except Exception as exc:
            raise failed(stage, exc) from exc


def attempt_sync(stage: str, call: Callable[..., T], *args: object,
                 sleep: Callable[[float], object] = time.sleep) -> T:
    """``attempt`` outside an event loop (a process pool worker): the wait blocks."""
    while True:
        try:
            return call(*args)
        except RetryableError as exc:
            logger.warning("retrying stage=%s error=%s", stage, exc)
            sleep(retry_after(exc))
        except Exception as exc:
            raise failed(stage, exc) from exc
