"""Date ranges follow Elasticsearch's rounding rules (pipeline/query/dates.py): a date-only
or rounded inclusive upper bound covers its whole day, an exclusive lower one skips it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.errors import QuerySyntaxError
from pipeline.query.matcher import Document, matches
from pipeline.query.parser import DateRange, compile_query
from pipeline.storage.elasticsearch.query import to_elastic


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def found(query: str, published: str) -> bool:
    doc = Document.build(title="t", text="x", published=at(published))
    return matches(query, doc).matched


@pytest.mark.parametrize("query, published, expected", [
    # the cases: an inclusive date-only upper bound includes that whole day
    ("published:[2026-03-02 TO 2026-03-02]", "2026-03-02T00:00:00", True),
    ("published:[2026-03-02 TO 2026-03-02]", "2026-03-02T10:15:00", True),
    ("published:[2026-03-02 TO 2026-03-02]", "2026-03-02T23:59:59.999", True),
    ("published:[2026-03-02 TO 2026-03-02]", "2026-03-01T23:59:59.999", False),
    ("published:[2026-03-02 TO 2026-03-02]", "2026-03-03T00:00:00", False),
    ("published:[2024-06-01 TO 2024-06-30]", "2024-06-30T18:00:00", True),
    ("published:[2024-06-01 TO 2024-06-30]", "2024-07-01T00:00:00", False),
    # a date as a term is that day, not the next midnight
    ("published:2026-03-02", "2026-03-02T12:00:00", True),
    ("published:2026-03-02", "2026-03-03T00:00:00", False),
    # exclusive bounds: { rounds up (skips the day), } rounds down (stops before it)
    ("published:{2026-03-02 TO *]", "2026-03-02T23:00:00", False),
    ("published:{2026-03-02 TO *]", "2026-03-03T00:00:00", True),
    ("published:[* TO 2026-03-02}", "2026-03-02T00:00:00", False),
    ("published:[* TO 2026-03-02}", "2026-03-01T23:59:59", True),
    ("published:[2026-03-02 TO 2026-03-03}", "2026-03-02T23:59:59", True),
    ("published:{2026-03-02 TO 2026-03-03}", "2026-03-02T12:00:00", False),
    # >=, >, <=, <
    ("published:>=2026-03-02", "2026-03-02T00:00:00", True),
    ("published:>2026-03-02", "2026-03-02T20:00:00", False),
    ("published:<=2026-03-02", "2026-03-02T20:00:00", True),
    ("published:<2026-03-02", "2026-03-02T00:00:00", False),
    # missing parts of a time round by the last one given
    ("published:[2026-03-02T10 TO 2026-03-02T10]", "2026-03-02T10:59:59", True),
    ("published:[2026-03-02T10 TO 2026-03-02T10]", "2026-03-02T11:00:00", False),
    (r"published:[* TO 2026-03-02T10\:30]", "2026-03-02T10:30:59", True),
    (r"published:[* TO 2026-03-02T10\:30]", "2026-03-02T10:31:00", False),
    (r"published:[* TO 2026-03-02T10\:30\:00.000Z]", "2026-03-02T10:30:00.500", False),
    # explicit rounding and anchored date math
    ("published:[2026-03-02||/M TO 2026-03-02||/M]", "2026-03-31T23:00:00", True),
    ("published:[2026-03-02||/M TO 2026-03-02||/M]", "2026-04-01T00:00:00", False),
    ("published:[2026-03-02||+1d TO *]", "2026-03-02T23:00:00", False),
    ("published:[2026-01-31||+1M TO 2026-01-31||+1M]", "2026-02-28T00:00:00", True),
])
def test_rounding_follows_elasticsearch(query: str, published: str, expected: bool) -> None:
    assert found(query, published) is expected


def test_now_is_the_time_of_evaluation_and_rounds_by_bound() -> None:
    node = compile_query("published:[now-1d/d TO now/d]")
    assert isinstance(node, DateRange)
    now = at("2026-03-02T10:00:00")
    assert node.bounds(now) == (at("2026-03-01T00:00:00"), at("2026-03-02T23:59:59.999"))
    assert node.contains(at("2026-03-02T22:00:00"), now)
    assert not node.contains(at("2026-02-28T23:59:59"), now)
    recent = datetime.now(UTC) - timedelta(minutes=1)
    doc = Document.build(title="t", text="x", published=recent)
    assert matches("published:[now-1h TO now]", doc).matched  # cached, never stale


def test_elasticsearch_gets_the_same_resolved_bounds() -> None:
    assert to_elastic(compile_query("published:[2026-03-02 TO 2026-03-02]")) == {
        "range": {"published": {"gte": "2026-03-02T00:00:00+00:00",
                                "lte": "2026-03-02T23:59:59.999+00:00"}}}
    assert to_elastic(compile_query("published:{2026-03-02 TO 2026-03-04}")) == {
        "range": {"published": {"gt": "2026-03-02T23:59:59.999+00:00",
                                "lt": "2026-03-04T00:00:00+00:00"}}}


@pytest.mark.parametrize("bad", ["published:[2026-03 TO *]", "published:2026",
                                 "published:[now-1x TO now]", "published:[2026-02-30 TO *]",
                                 "published:[2026-03-02||+1d/q TO *]"])
def test_bad_dates_say_what_to_write(bad: str) -> None:
    with pytest.raises(QuerySyntaxError, match="bad date"):
        compile_query(bad)
