"""The FTS5 side of the SQLite store: keyword tokens written, and a Lucene query tree turned
into an FTS5 MATCH expression that selects a superset of the matches.

The in-process matcher then confirms each candidate, so the expression only has to be
*wide enough*; None means "no restriction possible" (e.g. a pure NOT or a date range).
"""

from __future__ import annotations

import re

from pipeline.models import EnrichedArticle
from pipeline.query.analysis import analyzed_string, fold
from pipeline.query.parser import Bool, DateRange, Keyword, MatchAll, Node, Phrase, Term


def meta_tokens(article: EnrichedArticle) -> str:
    """Keyword fields as single FTS tokens (``topic:nato source:cnn``), plus author terms."""
    def tok(field: str, value: str) -> str:
        return f"{field}:{keyword_token(value)}"
    parts = [tok("topic", t) for t in article.topics]
    parts += [tok("source", article.source), tok("story", article.story_id)]
    if article.lang:
        parts.append(tok("lang", article.lang))
    if article.author:  # author terms: candidates for author: queries (the matcher confirms)
        parts.append(analyzed_string(article.author))
    return " ".join(parts)


def keyword_token(value: str) -> str:
    return re.sub(r"[^\w:-]+", "_", fold(value)).strip("_")


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"'


def fts_expression(node: Node) -> str | None:
    match node:
        case MatchAll() | DateRange():
            return None
        case Term(prefix=True):
            stem_safe = node.term[:3]  # Porter only rewrites endings; 3 letters are kept
            return f"{_quote(stem_safe)}*" if len(node.term) >= 4 else None
        case Term():
            return _quote(node.term)
        case Phrase(slop=0):
            return _quote(" ".join(node.terms))
        case Phrase():
            inner = " ".join(_quote(t) for t in node.terms)
            return f"NEAR({inner}, {node.slop + len(node.terms)})"
        case Keyword():
            token = _quote(f"{node.field}:{keyword_token(node.value)}")
            return f"{token}*" if node.prefix else token
        case Bool():
            return _bool(node)
    return None


def _bool(node: Bool) -> str | None:
    required = [e for e in (fts_expression(n) for n in node.must) if e is not None]
    if required:
        return " AND ".join(f"({e})" for e in required)
    if not node.should:
        return None
    options = [fts_expression(n) for n in node.should]
    if any(o is None for o in options):
        return None
    return " OR ".join(f"({o})" for o in options)
