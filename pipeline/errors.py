"""One exception tree for newswire.

    NewswireError
    ├── RetryableError            transient: retry with backoff, never drop
    │   ├── FetchError            network, timeout, HTTP 429/5xx
    │   └── SinkUnavailable       broker / Elasticsearch / SMTP down (carries retry_after)
    └── PoisonInputError          the input itself is bad: dead-letter it with the reason
        ├── InvalidInput          fails validation (names the field and the input)
        ├── NotAnArticle          paywall, consent, bot-challenge, error or index page
        └── QuerySyntaxError      a topic / alert / search query that does not parse
    ConfigError                   bad configuration: stop at start-up with a clear message
"""

from __future__ import annotations


class NewswireError(Exception):
    """Base of every newswire error."""


class RetryableError(NewswireError):
    """A transient failure: try again later."""


class FetchError(RetryableError):
    """Fetching a feed or page failed (network, timeout, HTTP status)."""


class SinkUnavailable(RetryableError):
    """A sink refused or is down; pause ``retry_after`` seconds and retry."""

    def __init__(self, message: str, retry_after: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PoisonInputError(NewswireError):
    """The input cannot be processed as it is; dead-letter it with this reason."""


class InvalidInput(PoisonInputError):
    """Input failed validation."""


class NotAnArticle(PoisonInputError):
    """The page is not article text (paywall, consent, challenge, error, index page)."""

    def __init__(self, reason: str, url: str = "") -> None:
        message = f"not an article ({reason}): {url}" if url else f"not an article: {reason}"
        super().__init__(message)
        self.reason = reason
        self.url = url


class QuerySyntaxError(PoisonInputError):
    """A query that cannot be parsed; the message says where and why."""


class ConfigError(NewswireError):
    """Configuration is invalid; the message says which file/field and what to do."""
