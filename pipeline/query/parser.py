"""Lucene query syntax (as Kibana's Lucene mode reads it) → newswire's small query tree.

luqum parses the text; ``compile_query`` turns its tree into the nodes below, with every
term already analysed by the English chain so that matching is set look-ups.

    Bool(must, should, must_not)   AND / OR / NOT / + / - / grouping (default operator OR)
    Term(field, term, prefix)      word or prefix wildcard ``sanction*``
    Phrase(field, terms, slop)     ``"security pact"`` and proximity ``"security pact"~3``
    Keyword(field, value)          source:, lang:, topic:, story: (exact, case-insensitive)
    DateRange(low, high, ...)      published:[now-7d TO now], {…}, >=, <, published:2026-03-02
                                   (bounds resolved by Elasticsearch's rounding: query/dates.py)
    MatchAll                       ``*`` or a clause made only of stop words
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from luqum import tree
from luqum.exceptions import IllegalCharacterError, ParseError
from luqum.parser import parser

from pipeline.errors import QuerySyntaxError
from pipeline.query.analysis import analyze_word, fold, terms
from pipeline.query.dates import DateValue, parse_date, truncate_ms

TEXT_FIELDS = ("title", "text", "author")
KEYWORD_FIELDS = ("source", "lang", "topic", "story")
DATE_FIELDS = ("published",)
FIELD_ALIASES = {"topics": "topic", "story_id": "story", "body": "text", "language": "lang"}


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Term:
    field: str | None  # None = default fields (title, text)
    term: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    field: str | None
    terms: tuple[str, ...]
    slop: int = 0


@dataclass(frozen=True)
class Keyword:
    field: str
    value: str
    prefix: bool = False


@dataclass(frozen=True)
class DateRange:
    """A range on ``published``; ``[`` / ``]`` include the bound, ``{`` / ``}`` exclude it.
    Bounds stay unresolved (``now`` is the time of evaluation) until ``contains``/``bounds``."""

    low: DateValue | None
    high: DateValue | None
    include_low: bool = True
    include_high: bool = True

    def bounds(self, now: datetime) -> tuple[datetime | None, datetime | None]:
        """The resolved instants: an exclusive low and an inclusive high round up."""
        low = self.low.resolve(now, round_up=not self.include_low) if self.low else None
        high = self.high.resolve(now, round_up=self.include_high) if self.high else None
        return low, high

    def contains(self, published: datetime, now: datetime) -> bool:
        low, high = self.bounds(now)
        at = truncate_ms(published)
        if low is not None and (at < low or (at == low and not self.include_low)):
            return False
        return high is None or at < high or (at == high and self.include_high)


@dataclass(frozen=True)
class Bool:
    must: tuple[Node, ...] = field(default_factory=tuple)
    should: tuple[Node, ...] = field(default_factory=tuple)
    must_not: tuple[Node, ...] = field(default_factory=tuple)


Node = MatchAll | Term | Phrase | Keyword | DateRange | Bool


def parse(query: str) -> tree.Item:
    """Parse Lucene syntax with luqum; a bad query raises QuerySyntaxError saying where."""
    if not query or not query.strip():
        raise QuerySyntaxError("empty query: write at least one term, e.g. 'ukraine'")
    try:
        return parser.parse(query)
    except (ParseError, IllegalCharacterError) as exc:
        raise QuerySyntaxError(f"cannot parse query {query!r}: {_reason(exc)}") from exc


def _reason(exc: Exception) -> str:
    """luqum's message, except that a quote left open (which its lexer reports as an
    illegal character) is called what it is, with where it starts."""
    message = str(exc)  # luqum: "Illegal character '<rest of query>' at position N"
    text, _, at = message.removeprefix("Illegal character '").rpartition("' at position ")
    if isinstance(exc, IllegalCharacterError) and text.startswith('"') and at.isdigit():
        return (f'unclosed quote: the " at position {at} has no closing "; close the phrase '
                "or remove the quote")
    return message


@lru_cache(maxsize=4096)
def compile_query(query: str) -> Node:
    """Parse and compile; cached because topics and rules are compiled once and reused."""
    return _compile(parse(query), None, query)


def _compile(item: tree.Item, fld: str | None, query: str) -> Node:
    match item:
        case tree.SearchField():
            name = FIELD_ALIASES.get(item.name.lower(), item.name.lower())
            if name not in TEXT_FIELDS + KEYWORD_FIELDS + DATE_FIELDS:
                known = ", ".join(TEXT_FIELDS + KEYWORD_FIELDS + DATE_FIELDS)
                raise QuerySyntaxError(
                    f"unknown field {item.name!r} in {query!r}; use one of {known}")
            return _compile(item.expr, name, query)
        case tree.Group() | tree.FieldGroup():
            return _compile(item.expr, fld, query)
        case tree.Boost():
            return _compile(item.expr, fld, query)
        case tree.AndOperation():
            return _bool([_compile(c, fld, query) for c in item.children], "and")
        case tree.OrOperation() | tree.UnknownOperation():
            return _clauses(item.children, fld, query)
        case tree.Not() | tree.Prohibit():
            return Bool(should=(MatchAll(),), must_not=(_compile(item.a, fld, query),))
        case tree.Plus():
            return _compile(item.a, fld, query)
        case tree.Proximity():
            inner = _compile(item.term, fld, query)
            if isinstance(inner, Phrase):
                return Phrase(inner.field, inner.terms, int(item.degree or 1))
            return inner
        case tree.Fuzzy():
            return _compile(item.term, fld, query)
        case tree.Phrase():
            return _phrase(item.value[1:-1], fld)
        case tree.Word():
            return _word(item.value, fld, query)
        case tree.Range() | tree.From() | tree.To():
            if fld not in DATE_FIELDS:
                raise QuerySyntaxError(f"ranges only work on published, in {query!r}")
            return _range(item, query)
        case _:
            raise QuerySyntaxError(f"unsupported construct {str(item)!r} in {query!r}")


def _clauses(children: tuple[tree.Item, ...], fld: str | None, query: str) -> Node:
    must, should, must_not = [], [], []
    for child in children:
        if isinstance(child, tree.Plus):
            must.append(_compile(child.a, fld, query))
        elif isinstance(child, tree.Prohibit | tree.Not):
            must_not.append(_compile(child.a, fld, query))
        else:
            should.append(_compile(child, fld, query))
    if must:  # Lucene: with required clauses, optional ones only score
        should = []
    if not should and not must:
        should = [MatchAll()]
    return Bool(tuple(must), tuple(should), tuple(must_not))


def _bool(nodes: list[Node], _: str) -> Node:
    must = [n for n in nodes if not _is_pure_not(n)]
    must_not = [n.must_not[0] for n in nodes if _is_pure_not(n)]  # type: ignore[union-attr]
    if not must:
        must = [MatchAll()]
    return Bool(tuple(must), (), tuple(must_not))


def _is_pure_not(node: Node) -> bool:
    return (
        isinstance(node, Bool)
        and node.should == (MatchAll(),)
        and not node.must
        and len(node.must_not) == 1
    )


def _word(value: str, fld: str | None, query: str) -> Node:
    if value == "*":
        return MatchAll()
    if fld in KEYWORD_FIELDS:
        prefix = value.endswith("*")
        return Keyword(fld, fold(value.rstrip("*")), prefix)
    if fld in DATE_FIELDS:  # a date as a term: [value TO value], as Elasticsearch reads it
        day = _date(value, query)
        return DateRange(day, day)
    if value.endswith("*") and "*" not in value[:-1]:
        return Term(fld, fold(value[:-1]).replace("'", ""), prefix=True)
    analysed = terms(value)
    if not analysed:
        return MatchAll()
    if len(analysed) == 1:
        return Term(fld, analysed[0])
    return Phrase(fld, tuple(analysed))  # "U.S." or "frozen-assets" as Lucene would


def _phrase(text: str, fld: str | None) -> Node:
    if fld in KEYWORD_FIELDS:
        return Keyword(fld, fold(text))
    analysed = tuple(terms(text))
    if not analysed:
        return MatchAll()
    if len(analysed) == 1:
        return Term(fld, analysed[0])
    return Phrase(fld, analysed)


def _range(item: tree.Range | tree.From | tree.To, query: str) -> DateRange:
    if isinstance(item, tree.From):  # published:>=2026-03-02, published:>2026-03-02
        return DateRange(_date(item.a.value, query), None, include_low=item.include)
    if isinstance(item, tree.To):  # published:<=2026-03-02, published:<2026-03-02
        return DateRange(None, _date(item.a.value, query), include_high=item.include)
    return DateRange(_date(item.low.value, query), _date(item.high.value, query),
                     item.include_low, item.include_high)


def _date(value: str, query: str) -> DateValue | None:
    return None if value == "*" else parse_date(value, query)


__all__ = ["Bool", "DateRange", "Keyword", "MatchAll", "Node", "Phrase", "Term",
           "analyze_word", "compile_query", "parse"]
