"""Many standing queries against a stream of documents, with a pre-filter (as Luwak does).

Each query is reduced to *anchors*: a set of terms such that any document it matches must
contain at least one of them. Queries are indexed by anchor; for each document only the
queries whose anchors it contains are evaluated, plus the few that have no anchor (pure
negations, date ranges, short prefixes). Thousands of rules then cost little per article.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from pipeline.query.matcher import Document, Match, matches
from pipeline.query.parser import (
    Bool,
    DateRange,
    Keyword,
    MatchAll,
    Node,
    Phrase,
    Term,
    compile_query,
)

Anchors = frozenset[str] | None  # None: cannot be pre-filtered, always evaluate


def anchors(node: Node) -> Anchors:
    """Terms of which a matching document must contain at least one (None = any doc)."""
    match node:
        case MatchAll() | DateRange():
            return None
        case Term(prefix=True):
            return None
        case Term():
            return frozenset({node.term})
        case Phrase():
            return frozenset({max(node.terms, key=len)})  # every term is required: pick one
        case Keyword(prefix=False):
            return frozenset({keyword_anchor(node.field, node.value)})
        case Keyword():
            return None
        case Bool():
            return _bool_anchors(node)
    return None


def _bool_anchors(node: Bool) -> Anchors:
    required = [a for a in (anchors(n) for n in node.must) if a is not None]
    if required:
        return min(required, key=len)  # any one required clause is enough: the narrowest
    if node.must or not node.should:
        return None
    union: set[str] = set()
    for child in node.should:
        found = anchors(child)
        if found is None:
            return None
        union |= found
    return frozenset(union)


def keyword_anchor(field: str, value: str) -> str:
    return f"\x00{field}:{value}"


def document_terms(doc: Document) -> set[str]:
    terms: set[str] = set()
    for index in doc.fields.values():
        terms.update(index.positions)
    for field, values in doc.keywords.items():
        terms.update(keyword_anchor(field, v) for v in values)
    return terms


@dataclass(frozen=True)
class Standing:
    name: str
    query: str
    node: Node


class QueryMonitor:
    """Named queries indexed by anchor; ``match`` returns the ones a document satisfies."""

    def __init__(self) -> None:
        self.queries: dict[str, Standing] = {}
        self._by_anchor: dict[str, set[str]] = defaultdict(set)
        self._always: set[str] = set()
        self.evaluated = 0  # how many full evaluations ran (for benchmarks and tests)

    def add(self, name: str, query: str) -> None:
        node = compile_query(query)
        self.queries[name] = Standing(name, query, node)
        found = anchors(node)
        if found is None:
            self._always.add(name)
        else:
            for term in found:
                self._by_anchor[term].add(name)

    def candidates(self, doc: Document) -> set[str]:
        out = set(self._always)
        for term in document_terms(doc):
            hit = self._by_anchor.get(term)
            if hit:
                out |= hit
        return out

    def match(self, doc: Document) -> list[tuple[Standing, Match]]:
        """Matching queries in the order they were added."""
        found = []
        for name in self.candidates(doc):
            standing = self.queries[name]
            self.evaluated += 1
            result = matches(standing.node, doc)
            if result.matched:
                found.append((standing, result))
        order = {name: i for i, name in enumerate(self.queries)}
        return sorted(found, key=lambda pair: order[pair[0].name])
