"""Dead letters as listed: reason classes (bounded metric labels), previews, sources, times."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.errors import QuerySyntaxError
from pipeline.models import DeadLetter, RawArticle
from pipeline.storage.dead import (
    letter_key,
    not_replayable,
    preview,
    reason_class,
    since_moment,
)


@pytest.mark.parametrize(("error", "expected"), [
    ("NotAnArticle: not an article (paywall): https://x.example/a", "paywall"),
    ("NotAnArticle: not an article (consent): https://x.example/a", "consent"),
    ("NotAnArticle: not an article: no main text", "NotAnArticle"),
    ("record too large for Kafka: 3,000,000 bytes (1,200,000 gzip-compressed), over the "
     "limit of 1,000,000 bytes; source: feed https://f.example, https://x.example/a",
     "oversized"),
    ("RuntimeError: bug on this one", "RuntimeError"),
    ("line 5: not valid JSON (Expecting value at column 1); write one JSON object per line",
     "invalid-json"),
    ("line 6: missing required field 'url'", "missing-field"),
    ("line 7: field 'published': Input should be a valid datetime", "invalid-field"),
    ("HTTP 500 from https://hooks.example/x after 4 attempts", "other"),
])
def test_reason_class_is_short_and_drops_the_message(error: str, expected: str) -> None:
    assert reason_class(error) == expected


def test_reason_classes_stay_few_whatever_the_messages() -> None:
    errors = [f"NotAnArticle: not an article (paywall): https://x.example/{i}"
              for i in range(500)] + [f"line {i}: not valid JSON (x)" for i in range(500)]
    assert {reason_class(e) for e in errors} == {"paywall", "invalid-json"}


def test_preview_prefers_the_title_and_stays_on_one_short_line() -> None:
    raw = RawArticle(url="https://x.example/a", title="Kyiv signs pact", text="body " * 500)
    assert preview(raw.model_dump_json()) == "Kyiv signs pact"
    long = preview("word\n" * 200)
    assert "\n" not in long and len(long) == 160 and long.endswith("…")


def test_origin_reads_the_feed_and_url_from_the_payload_even_cut_short() -> None:
    raw = RawArticle(url="https://x.example/a", feed_url="https://f.example/rss", text="t")
    cut = raw.model_dump_json()[:60]
    assert DeadLetter(stage="clean", error="e", payload=cut).origin() == \
        "https://x.example/a"
    whole = DeadLetter(stage="clean", error="e", payload=raw.model_dump_json())
    assert whole.origin() == "https://f.example/rss, https://x.example/a"
    given = DeadLetter(stage="ingest", error="e", payload="{", source="a.jsonl:3")
    assert given.origin() == "a.jsonl:3"
    assert DeadLetter(stage="poll", error="e", payload="<item/>").origin() is None


def test_the_derived_key_is_the_same_for_the_same_input_at_the_same_stage() -> None:
    one = DeadLetter(stage="ingest", error="line 1: x", payload="{")
    again = DeadLetter(stage="ingest", error="line 9: y", payload="{")
    assert letter_key(one) == letter_key(again) != letter_key(one.model_copy(
        update={"payload": "}"}))
    assert letter_key(one.model_copy(update={"key": "a1"})) == "a1"


def test_since_takes_dates_date_math_and_periods() -> None:
    now = datetime(2024, 6, 13, 12, tzinfo=UTC)
    assert since_moment("2024-06-01", now) == datetime(2024, 6, 1, tzinfo=UTC)
    assert since_moment("now-1d", now) == since_moment("24h", now) == \
        datetime(2024, 6, 12, 12, tzinfo=UTC)
    for bad in ("yesterday", "now-99999999y"):
        with pytest.raises(QuerySyntaxError):
            since_moment(bad, now)


def test_stages_whose_payload_cannot_go_back_say_why() -> None:
    assert not_replayable("clean") is None and not_replayable("alert") is None
    assert "body was not kept" in (not_replayable("produce") or "")
    assert "next poll" in (not_replayable("poll") or "")
    too_big = "record too large for Kafka: 2,000,000 bytes (1,500,000 gzip-compressed)"
    assert "body was not kept" in (not_replayable("enrich", too_big) or "")
