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


_seen: dict[str, str | None] = {}  # surface word → analysed term (None: a stop word)


def _known(words: list[str]) -> dict[str, str | None]:
    """The analysis cache, holding every one of ``words``."""
    seen = _seen
    if len(seen) > 500_000:
        seen.clear()
    for word in [w for w in words if w not in seen]:
        seen[word] = analyze_word(word)
    return seen


def tokens(text: str) -> list[Token]:
    """Analyse text into terms with offsets and positions."""
    words = _TOKEN.findall(text)
    get = _known(words).__getitem__
    find, new = text.find, tuple.__new__  # the tuple's own constructor: no Python frame
    out: list[Token] = []
    end = 0
    for position, word in enumerate(words):
        # No word character lies between two matches: the word's next occurrence is its match.
        start = find(word, end)
        end = start + len(word)
        term = get(word)
        if term is not None:
            out.append(new(Token, (term, start, end, position)))
    return out


def terms(text: str) -> list[str]:
    """Analysed terms only, in order (no offsets: the fast path)."""
    words = _TOKEN.findall(text)
    try:  # usually every word is known already
        return [term for term in map(_seen.__getitem__, words) if term is not None]
    except KeyError:
        return [term for term in map(_known(words).__getitem__, words) if term is not None]


def words_string(text: str) -> str:
    """Folded surface words of the indexed tokens (stop words dropped), for prefixes longer
    than a stem: the words of ``tokens`` without their offsets (2.7 × faster on news)."""
    words = _TOKEN.findall(text)
    known = _known(words)
    kept = [word for word in words if known[word] is not None]
    if text.isascii():  # ``fold`` of an ASCII word is its lower case
        return " ".join(kept).lower()
    return " ".join([fold(word) for word in kept])


def analyzed_string(text: str) -> str:
    """Terms joined by spaces, for stores that index pre-analysed text (FTS5, ES whitespace)."""
    return " ".join(terms(text))
