"""Compiled queries → Elasticsearch DSL over the pre-analysed fields (shape only; the
integration tests prove the same hits as the matcher on a real node)."""

from __future__ import annotations

from pipeline.query.parser import compile_query
from pipeline.storage.elasticsearch.query import to_elastic


def dsl(query: str) -> dict:
    return to_elastic(compile_query(query))


def test_terms_are_stemmed_and_search_title_and_text() -> None:
    assert dsl("agreements") == {"bool": {"should": [
        {"term": {"title_terms": "agreement"}}, {"term": {"text_terms": "agreement"}}],
        "minimum_should_match": 1}}


def test_phrases_and_proximity() -> None:
    assert dsl('title:"frozen assets"') == {"match_phrase": {"title_terms": "frozen asset"}}
    near = dsl('text:"security pact"~2')["span_near"]
    assert near["slop"] == 2 and near["in_order"] is False
    assert [c["span_term"]["text_terms"] for c in near["clauses"]] == ["secur", "pact"]


def test_keywords_prefixes_ranges_and_booleans() -> None:
    assert dsl("topic:frozen-assets") == {"term": {"keys.topic": "frozen-assets"}}
    assert dsl("source:Reu*") == {"prefix": {"keys.source": "reu"}}
    assert dsl("published:[2024-06-01 TO *]") == {
        "range": {"published": {"gte": "2024-06-01T00:00:00+00:00"}}}
    both = dsl("NATO AND -membership")["bool"]
    assert len(both["must"]) == 1 and len(both["must_not"]) == 1
