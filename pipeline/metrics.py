"""Prometheus counters the runtimes increment and ``/metrics`` serves.

    newswire_articles_total{stage, direction}     articles into / out of each stage
    newswire_errors_total{stage, error}           failures by stage and exception class
    newswire_alert_deliveries_total{channel, state}   delivered / failed alert sends
    newswire_dead_letters_total{stage, reason}    letters recorded (reason: a short class,
                                                  ``storage.dead.reason_class``)
    newswire_dead_letters{stage, reason}          letters held now (read from the store when
                                                  /metrics is scraped; both backends)
    newswire_consumer_lag{topic}                  Kafka mode: messages not yet consumed
    newswire_search_seconds                       search latency as the web page sees it
    newswire_stage_seconds{stage}                 time per article in each stage: prepare
                                                  (clean, analyse, tag), assign (story and
                                                  alert rules), and per batch: commit (the
                                                  SQLite transaction) or index (an ES bulk)

One process-wide registry (prometheus_client's default), so the embedded runtime and
the web page in one ``newswire run --web`` process report together.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

ARTICLES = Counter("newswire_articles", "Articles into (in) and out of (out) each stage.",
                   ["stage", "direction"])
ERRORS = Counter("newswire_errors", "Errors by stage and exception class.", ["stage", "error"])
ALERT_DELIVERIES = Counter("newswire_alert_deliveries", "Alert sends by channel and state.",
                           ["channel", "state"])
DEAD_LETTERS = Counter("newswire_dead_letters", "Dead letters recorded by stage and "
                       "reason class (oversized, paywall, an exception type, ...).",
                       ["stage", "reason"])
CONSUMER_LAG = Gauge("newswire_consumer_lag", "Kafka mode: messages behind the log end.",
                     ["topic"])
SEARCH_SECONDS = Histogram("newswire_search_seconds", "Search latency (web and API).")
STAGE_SECONDS = Histogram(
    "newswire_stage_seconds", "Seconds per article in a stage (per batch: commit, index).",
    ["stage"], buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0,
                        2.5, 5.0, 10.0))


def stage_seconds(stage: str, seconds: float) -> None:
    """Observe how long one article (or batch) took in ``stage``."""
    STAGE_SECONDS.labels(stage).observe(seconds)


def count(stage: str, into: int = 0, out: int = 0) -> None:
    """Add ``into`` articles entering and ``out`` leaving ``stage``."""
    if into:
        ARTICLES.labels(stage, "in").inc(into)
    if out:
        ARTICLES.labels(stage, "out").inc(out)


def error(stage: str, reason: str) -> None:
    """Count one failure; ``reason`` starts with the exception class (``ParseError: ...``)."""
    ERRORS.labels(stage, reason.split(":", 1)[0].strip()[:80] or "Error").inc()


def dead_letter(stage: str, reason: str) -> None:
    """Count one dead letter; ``reason`` is already a short class (bounded cardinality)."""
    DEAD_LETTERS.labels(stage, reason).inc()


def held_dead_letters(counts: dict[tuple[str, str], int]) -> bytes:
    """``newswire_dead_letters{stage, reason}``: the letters a store holds now, in the
    Prometheus text format (a registry of its own, filled per scrape)."""
    registry = CollectorRegistry()
    gauge = Gauge("newswire_dead_letters", "Dead letters held now, by stage and reason class.",
                  ["stage", "reason"], registry=registry)
    for (stage, reason), n in sorted(counts.items()):
        gauge.labels(stage, reason).set(n)
    return generate_latest(registry)
