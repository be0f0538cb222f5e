"""The English analysis chain shared by the matcher, the SQLite index and Elasticsearch.

Close to Elasticsearch's ``english`` analyzer: unicode folding, lower-case, possessive
``'s`` removed, English stop words dropped, Porter stemming. Tokens keep their character
offsets (for evidence and highlights) and positions (for phrases and proximity).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

import Stemmer

# Lucene's EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, as Elasticsearch's `english` uses.
STOP_WORDS = frozenset({
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is",
    "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there",
    "these", "they", "this", "to", "was", "will", "with",
})

_TOKEN = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)
_stemmer = Stemmer.Stemmer("porter")


class Token(NamedTuple):
    term: str  # analysed form
    start: int  # character offsets into the original text
    end: int
    position: int  # position counting stop words, as Lucene does


def fold(word: str) -> str:
    """Lower-case and strip diacritics (ASCII folding for Latin text)."""
    if word.isascii():  # nothing to decompose or strip
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def analyze_word(word: str) -> str | None:
    """One word to its indexed term, or None for a stop word."""
    folded = fold(word).replace("’", "'")
    if folded.endswith("'s"):
        folded = folded[:-2]
    folded = folded.replace("'", "")
    if not folded or folded in STOP_WORDS:
        return None
    return str(_stemmer.stemWord(folded))


_seen: dict[str, str | None] = {}


def tokens(text: str) -> list[Token]:
    """Analyse text into terms with offsets and positions."""
    out: list[Token] = []
    seen = _seen
    for position, match in enumerate(_TOKEN.finditer(text)):
        word = match.group()
        term = seen.get(word, "")
        if term == "":
            term = seen[word] = analyze_word(word)
            if len(seen) > 500_000:
                seen.clear()
        if term is not None:
            out.append(Token(term, match.start(), match.end(), position))
    return out


def terms(text: str) -> list[str]:
    """Analysed terms only, in order (no offsets: the fast path)."""
    seen = _seen
    out: list[str] = []
    for word in _TOKEN.findall(text):
        term = seen.get(word, "")
        if term == "":
            term = seen[word] = analyze_word(word)
        if term is not None:
            out.append(term)
    if len(seen) > 500_000:
        seen.clear()
    return out


def analyzed_string(text: str) -> str:
    """Terms joined by spaces, for stores that index pre-analysed text (FTS5, ES whitespace)."""
    return " ".join(terms(text))
