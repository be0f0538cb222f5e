"""The in-process matcher: evaluates compiled queries against one article.

Used by the tagger, the alert matcher and the embedded search store, so a query means
the same thing everywhere. Matching collects evidence: each matched term with its
character offsets in the field it matched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import product

from pipeline.query.analysis import Token, fold, terms, tokens
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

DEFAULT_FIELDS = ("title", "text")
Evidence = tuple[str, str, int, int]  # (field, surface word, start, end)


@dataclass
class FieldIndex:
    """One analysed text field: its terms in analysed order. Term positions and character
    offsets (``tokens``) are built on first use (most fields never need offsets) and never
    pickled: rebuilding them where needed costs less than shipping them between processes."""

    text: str
    terms: list[str]
    _positions: dict[str, list[int]] | None = field(default=None, compare=False, repr=False)
    _tokens: list[Token] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, text: str, analysed: list[str] | None = None) -> FieldIndex:
        """``text`` analysed (or its terms as analysed before, by another process)."""
        return cls(text, terms(text) if analysed is None else analysed)

    @property
    def positions(self) -> dict[str, list[int]]:
        """term → its positions in ``terms``."""
        if self._positions is None:
            positions: dict[str, list[int]] = {}
            get = positions.get
            for i, term in enumerate(self.terms):
                found = get(term)
                if found is None:
                    positions[term] = [i]
                else:
                    found.append(i)
            self._positions = positions
        return self._positions

    @property
    def tokens(self) -> list[Token]:
        if self._tokens is None:
            self._tokens = tokens(self.text)
        return self._tokens

    def analysed(self) -> str:
        return " ".join(self.terms)

    def __getstate__(self) -> dict[str, object]:
        return {"text": self.text, "terms": self.terms}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state, _positions=None, _tokens=None)


@dataclass
class Document:
    """What queries see of an article."""

    fields: dict[str, FieldIndex]
    keywords: dict[str, set[str]]
    published: datetime | None

    @classmethod
    def build(
        cls,
        *,
        title: str,
        text: str,
        author: str | None = None,
        source: str | None = None,
        lang: str | None = None,
        topics: list[str] | None = None,
        story: str | None = None,
        published: datetime | None = None,
        analysed: Mapping[str, list[str]] | None = None,
    ) -> Document:
        """``analysed``: the fields' terms when already known (``FieldIndex.terms``)."""
        known = analysed or {}
        fields = {name: FieldIndex.of(value, known.get(name)) for name, value in
                  (("title", title), ("text", text), ("author", author or ""))}
        keywords = {
            "source": {fold(source)} if source else set(),
            "lang": {fold(lang)} if lang else set(),
            "topic": {fold(t) for t in topics or []},
            "story": {fold(story)} if story else set(),
        }
        return cls(fields, keywords, published)

    def all_terms(self) -> set[str]:
        out: set[str] = set()
        for f in DEFAULT_FIELDS:
            out.update(self.fields[f].positions)
        return out


@dataclass
class Match:
    matched: bool
    evidence: list[Evidence] = field(default_factory=list)


def matches(query: str | Node, doc: Document) -> Match:
    """Does the query match the document, and through which words?"""
    node = compile_query(query) if isinstance(query, str) else query
    evidence: list[Evidence] = []
    ok = _eval(node, doc, evidence)
    return Match(ok, _dedupe(evidence) if ok else [])


def _eval(node: Node, doc: Document, ev: list[Evidence]) -> bool:
    match node:
        case MatchAll():
            return True
        case Term():
            return _term(node, doc, ev)
        case Phrase():
            return _phrase(node, doc, ev)
        case Keyword():
            values = doc.keywords.get(node.field, set())
            if node.prefix:
                return any(v.startswith(node.value) for v in values)
            return node.value in values
        case DateRange():
            return doc.published is not None and node.contains(doc.published, datetime.now(UTC))
        case Bool():
            return _bool(node, doc, ev)
    return False


def _bool(node: Bool, doc: Document, ev: list[Evidence]) -> bool:
    local: list[Evidence] = []
    if not all(_eval(n, doc, local) for n in node.must):
        return False
    if any(_eval(n, doc, []) for n in node.must_not):
        return False
    if node.should and not node.must:
        hits = [_eval(n, doc, local) for n in node.should]
        if not any(hits):
            return False
    elif node.should:
        for n in node.should:
            _eval(n, doc, local)
    ev.extend(local)
    return True


def _fields(name: str | None) -> tuple[str, ...]:
    return DEFAULT_FIELDS if name is None else (name,)


def _term(node: Term, doc: Document, ev: list[Evidence]) -> bool:
    found = False
    for name in _fields(node.field):
        index = doc.fields[name]
        if node.prefix:
            keys = [t for t in index.positions if t.startswith(node.term)]
            keys += [] if keys else _surface_prefix(index, node.term)
        else:
            keys = [node.term] if node.term in index.positions else []
        for key in keys:
            found = True
            for pos in index.positions[key]:
                tok = index.tokens[pos]
                ev.append((name, index.text[tok.start:tok.end], tok.start, tok.end))
    return found


def _surface_prefix(index: FieldIndex, prefix: str) -> list[str]:
    """A prefix such as ``sanctions*`` may be longer than the stem ``sanction``."""
    return list({t.term for t in index.tokens
                 if fold(index.text[t.start:t.end]).startswith(prefix)})


def _phrase(node: Phrase, doc: Document, ev: list[Evidence]) -> bool:
    found = False
    for name in _fields(node.field):
        index = doc.fields[name]
        lists = [index.positions.get(t) for t in node.terms]
        if not all(lists):
            continue
        for start in _phrase_starts(lists, node.slop):  # type: ignore[arg-type]
            found = True
            for pos in start:
                tok = index.tokens[pos]
                ev.append((name, index.text[tok.start:tok.end], tok.start, tok.end))
    return found


def _phrase_starts(lists: list[list[int]], slop: int) -> list[tuple[int, ...]]:
    """Position tuples where the terms occur in order (slop 0) or within a window."""
    if slop == 0:
        return [tuple(p + i for i in range(len(lists)))
                for p in lists[0] if all(p + i in set(lst) for i, lst in enumerate(lists))]
    out = []
    width = len(lists) - 1 + slop
    for combo in product(*(lst[:50] for lst in lists)):
        if len(set(combo)) == len(combo) and max(combo) - min(combo) <= width:
            out.append(combo)
    return out


def _dedupe(evidence: list[Evidence]) -> list[Evidence]:
    return sorted(set(evidence), key=lambda e: (e[0] != "title", e[2]))
