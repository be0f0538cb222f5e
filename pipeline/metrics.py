"""Prometheus counters the runtimes increment and ``/metrics`` serves.

    newswire_articles_total{stage, direction}     articles into / out of each stage
    newswire_errors_total{stage, error}           failures by stage and exception class
    newswire_alert_deliveries_total{channel, state}   delivered / failed alert sends
    newswire_consumer_lag{topic}                  Kafka mode: messages not yet consumed
    newswire_search_seconds                       search latency as the web page sees it

One process-wide registry (prometheus_client's default), so the embedded runtime and
the web page in one ``newswire run --web`` process report together.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

ARTICLES = Counter("newswire_articles", "Articles into (in) and out of (out) each stage.",
                   ["stage", "direction"])
ERRORS = Counter("newswire_errors", "Errors by stage and exception class.", ["stage", "error"])
ALERT_DELIVERIES = Counter("newswire_alert_deliveries", "Alert sends by channel and state.",
                           ["channel", "state"])
CONSUMER_LAG = Gauge("newswire_consumer_lag", "Kafka mode: messages behind the log end.",
                     ["topic"])
SEARCH_SECONDS = Histogram("newswire_search_seconds", "Search latency (web and API).")


def count(stage: str, into: int = 0, out: int = 0) -> None:
    """Add ``into`` articles entering and ``out`` leaving ``stage``."""
    if into:
        ARTICLES.labels(stage, "in").inc(into)
    if out:
        ARTICLES.labels(stage, "out").inc(out)


def error(stage: str, reason: str) -> None:
    """Count one failure; ``reason`` starts with the exception class (``ParseError: ...``)."""
    ERRORS.labels(stage, reason.split(":", 1)[0].strip()[:80] or "Error").inc()
