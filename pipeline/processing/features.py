"""What the story clusterer sees of an article: weighted features and a near-copy signature.

    Article ──▶ Features
                ├── vector   feature → raw weight (no IDF yet: IDF comes from the stream)
                │            words  "stem"      title words boosted
                │            names  "e:stem"    capitalised proper nouns and name phrases
                │            numbers "n:13"     digits, number words, ages ("4-year-old")
                ├── title    title words only (for the headline-level similarity)
                └── shingles word 4-gram hashes of the body (for MinHash near-copy detection)

Pure functions over text; the same article always gives the same features, in any process.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass, field

from pipeline.models import Article
from pipeline.query.analysis import analyze_word

LEAD_TOKENS = 400  # body words looked at: the lead carries the event; the tail carries furniture
TITLE_BOOST = 1.5
NAME_BOOST = 1.5
NUMBER_BOOST = 1.0
SHINGLE_SIZE = 4

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_NAME_RUN = re.compile(
    r"(?<![\w'’])(?:[A-Z][\w'’.&-]*)(?:\s+(?:(?:of|de|del|la|van|von|al|bin)\s+)?[A-Z][\w'’.&-]*)*"
)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_SENTENCE_END = re.compile(r"[.!?\"”:]\s*$|\n\s*$")
_COUNTS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_ORDINALS = "_ first second third fourth fifth sixth"
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(_COUNTS.split())}
_NUMBER_WORDS.update({w: str(i) for i, w in enumerate(_ORDINALS.split()) if i})
_NUMBER_WORDS.update({"dozen": "12", "dozens": "12"})
# Capitalised words that open sentences or headlines without naming anything.
_OPENERS = (
    "a an the in on at by for of to from and but or as it its he she they we i you his her their "
    "this that these those there here when while after before during since if what who why how "
    "mr mrs ms dr police officials authorities according"
)
_NOT_NAMES = frozenset(_OPENERS.split())


_NONE = object()
_TERMS: dict[str, object] = {}


@dataclass(slots=True)
class Features:
    vector: dict[str, float] = field(default_factory=dict)
    title: dict[str, float] = field(default_factory=dict)
    shingles: list[int] = field(default_factory=list)


def _add(vector: dict[str, float], key: str, weight: float) -> None:
    vector[key] = vector.get(key, 0.0) + weight


def _sublinear(counts: dict[str, int], boost: float, into: dict[str, float]) -> None:
    for key, count in counts.items():
        _add(into, key, boost * (1.0 + math.log(count)))


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _analyse(word: str) -> str | None:
    """Cached: the analysed term of a word (None for stop words and bare numbers)."""
    term = _TERMS.get(word, _NONE)
    if term is _NONE:
        if len(_TERMS) > 200_000:
            _TERMS.clear()
        term = analyze_word(word)
        if term is not None and term.isdigit():
            term = None
        _TERMS[word] = term
    return term  # type: ignore[return-value]


def _word_terms(text: str, limit: int) -> tuple[list[str], list[str]]:
    """(analysed terms, lower-cased words) of the first ``limit`` words of text."""
    words = _WORD.findall(text, 0, len(text))[:limit]
    terms = [t for t in map(_analyse, words) if t is not None]
    return terms, [w.lower() for w in words]


def _names(text: str) -> dict[str, int]:
    """Capitalised runs of words ("Fairmont Terrace", "NATO"), minus sentence openers."""
    counts: dict[str, int] = {}
    for match in _NAME_RUN.finditer(text):
        parts = match.group().split()
        start = match.start()
        sentence_start = start == 0 or bool(_SENTENCE_END.search(text[max(0, start - 4) : start]))
        stems = [analyze_word(p.strip(".'’-&")) for p in parts]
        kept = [
            s
            for i, (p, s) in enumerate(zip(parts, stems, strict=True))
            if s
            and not (p.lower() in _NOT_NAMES or (i == 0 and sentence_start and len(parts) == 1))
        ]
        for stem in kept:
            _count(counts, "e:" + stem)
        if len(kept) > 1:
            _count(counts, "e:" + "_".join(kept))
    return counts


def _numbers(text: str, words: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for match in _NUMBER.finditer(text):
        value = match.group().replace(",", "")
        if len(value) <= 12:
            _count(counts, "n:" + value.lstrip("0") if value.strip("0") else "n:0")
    for word in words:
        number = _NUMBER_WORDS.get(word)
        if number is not None:
            _count(counts, "n:" + number)
    return counts


def _lead(text: str, limit_words: int) -> str:
    """The body's first ``limit_words`` words, as text (cheap cut at a word boundary)."""
    for n, match in enumerate(_WORD.finditer(text)):
        if n == limit_words:
            return text[: match.start()]
    return text


def shingle_hashes(words: list[str], size: int = SHINGLE_SIZE) -> list[int]:
    """Stable 32-bit hashes of word n-grams (crc32: identical in every process)."""
    if len(words) < size:
        return []
    return sorted(
        {zlib.crc32(" ".join(words[i : i + size]).encode()) for i in range(len(words) - size + 1)}
    )


def extract(article: Article) -> Features:
    """The clusterer's view of one article."""
    lead = _lead(article.text, LEAD_TOKENS)
    title_terms, title_words = _word_terms(article.title, 60)
    body_terms, body_words = _word_terms(lead, LEAD_TOKENS)
    features = Features()
    title_counts: dict[str, int] = {}
    for term in title_terms:
        _count(title_counts, term)
    _sublinear(title_counts, 1.0, features.title)
    body_counts: dict[str, int] = {}
    for term in body_terms:
        _count(body_counts, term)
    _sublinear(body_counts, 1.0, features.vector)
    _sublinear(title_counts, TITLE_BOOST, features.vector)
    _sublinear(_names(lead), NAME_BOOST, features.vector)
    _sublinear(
        _numbers(article.title + "\n" + lead, title_words + body_words),
        NUMBER_BOOST,
        features.vector,
    )
    features.shingles = shingle_hashes(body_words)
    return features
