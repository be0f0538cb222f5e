"""Compiled queries (``pipeline.query.parser``) → Elasticsearch query DSL.

Elasticsearch is searched over fields that newswire analyses itself in Python (the test
distribution has no ``english`` analyzer), so a query means here what it means to the
in-process matcher:

    Term(title|text|author)     term on ``<field>_terms`` (Porter stems, stop words gone)
    Term prefix ``sanction*``   prefix on ``<field>_terms`` OR on ``<field>_words`` (folded
                                surface words, for prefixes longer than the stem)
    Phrase slop 0 / ~N          match_phrase / unordered span_near with slop N
    Keyword source|lang|topic|story   term / prefix on ``keys.<field>`` (folded keyword)
    DateRange                   range on ``published``: gte/gt/lte/lt on the bounds resolved
                                in Python (query/dates.py: Elasticsearch's rounding), so
                                ``now`` and rounding are the matcher's to the millisecond
    Bool                        bool must / should / must_not (should optional beside must)

Default fields (no ``field:``) are title and text, as in the matcher.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipeline.query.matcher import DEFAULT_FIELDS
from pipeline.query.parser import Bool, DateRange, Keyword, MatchAll, Node, Phrase, Term

Query = dict[str, Any]


def to_elastic(node: Node) -> Query:
    """Translate one compiled query node into an Elasticsearch query."""
    match node:
        case MatchAll():
            return {"match_all": {}}
        case Term():
            return _any_field(node.field, lambda f: _term(f, node))
        case Phrase():
            return _any_field(node.field, lambda f: _phrase(f, node))
        case Keyword():
            kind = "prefix" if node.prefix else "term"
            return {kind: {f"keys.{node.field}": node.value}}
        case DateRange():
            return _range(node)
        case Bool():
            return _bool(node)
    raise TypeError(f"cannot translate query node {node!r}")


def _range(node: DateRange) -> Query:
    low, high = node.bounds(datetime.now(UTC))
    bounds = {}
    if low is not None:
        bounds["gte" if node.include_low else "gt"] = _instant(low, not node.include_low)
    if high is not None:
        bounds["lte" if node.include_high else "lt"] = _instant(high, node.include_high)
    if not bounds:
        return {"exists": {"field": "published"}}
    return {"range": {"published": bounds}}


def _instant(at: datetime, rounds_up: bool) -> str:
    """The resolved instant, in a form Elasticsearch rounds no further: gt and lte fill a
    missing fraction with .999, so for them the milliseconds are always written."""
    at = at.astimezone(UTC)
    return at.isoformat(timespec="milliseconds") if rounds_up else at.isoformat()


def _bool(node: Bool) -> Query:
    body: dict[str, Any] = {}
    for name, clauses in (("must", node.must), ("should", node.should),
                          ("must_not", node.must_not)):
        if clauses:
            body[name] = [to_elastic(c) for c in clauses]
    if node.should and not node.must:
        body["minimum_should_match"] = 1
    return {"bool": body}


def _any_field(name: str | None, build: Any) -> Query:
    fields = DEFAULT_FIELDS if name is None else (name,)
    queries = [build(f) for f in fields]
    if len(queries) == 1:
        return queries[0]  # type: ignore[no-any-return]
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def _term(name: str, node: Term) -> Query:
    if not node.prefix:
        return {"term": {f"{name}_terms": node.term}}
    return {"bool": {"should": [{"prefix": {f"{name}_terms": node.term}},
                                {"prefix": {f"{name}_words": node.term}}],
                     "minimum_should_match": 1}}


def _phrase(name: str, node: Phrase) -> Query:
    field = f"{name}_terms"
    if node.slop == 0:
        return {"match_phrase": {field: " ".join(node.terms)}}
    return {"span_near": {
        "clauses": [{"span_term": {field: t}} for t in node.terms],
        "slop": node.slop,
        "in_order": False,
    }}


__all__ = ["to_elastic"]
