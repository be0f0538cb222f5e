"""The feed poller's errors: FetchError (retryable) with a kind for health and reports.

    FetchError (pipeline.errors)
    └── FeedError   kind: timeout | network | http | gone | too_large | redirect_loop |
                          unsafe_redirect | unsafe_xml | parse | file
"""

from __future__ import annotations

from pipeline.errors import FetchError


class FeedError(FetchError):
    """A feed poll that failed, in words, with its class and the server's Retry-After."""

    def __init__(self, message: str, kind: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
