"""The Faust codec carries the pydantic models as JSON and never raises on bad input."""

from __future__ import annotations

from pipeline.models import RawArticle
from pipeline.runtime.kafka.codec import ModelCodec, Undecodable


def test_round_trip() -> None:
    codec = ModelCodec(RawArticle)
    raw = RawArticle(url="https://a.example/x", title="T", text="body")
    assert codec.loads(codec.dumps(raw)) == raw


def test_poison_comes_out_as_undecodable_with_the_reason() -> None:
    codec = ModelCodec(RawArticle)
    bad = codec.loads(b"{nope")
    assert isinstance(bad, Undecodable) and bad.text == "{nope" and "json" in bad.error.lower()
    missing = codec.loads(b'{"title": "no url"}')
    assert isinstance(missing, Undecodable) and "url" in missing.error


def test_bytes_pass_through_unchanged() -> None:
    assert ModelCodec(RawArticle).dumps(b"raw bytes") == b"raw bytes"
