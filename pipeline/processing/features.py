"""What the story clusterer sees of an article: weighted features and a near-copy signature.

    Article ──▶ Features
                ├── vector   feature → raw weight (no IDF yet: IDF comes from the stream)
                │            words  "stem"      title words boosted
                │            names  "e:stem"    capitalised proper nouns and name phrases
                │            numbers "n:13"     digits, number words, ages ("4-year-old")
                ├── title    title words only (for the headline-level similarity)
                └── words    the body's lower-cased words (MinHash shingles for near-copies)

Pure functions over text; the same article always gives the same features, in any process.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from pipeline.models import Article
from pipeline.query.analysis import analyze_word

LEAD_TOKENS = 400  # body words looked at: the lead carries the event; the tail carries furniture
TITLE_BOOST = 1.5
NAME_BOOST = 2.5
NUMBER_BOOST = 1.0

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


_TERMS: dict[str, str] = {}


@dataclass(slots=True)
class Features:
    vector: dict[str, float] = field(default_factory=dict)
    title: dict[str, float] = field(default_factory=dict)
    words: list[str] = field(default_factory=list)  # lower-cased body words, for shingles


def _sublinear(counts: Mapping[str, int], boost: float, into: dict[str, float]) -> None:
    log = math.log
    for key, count in counts.items():
        into[key] = into.get(key, 0.0) + boost * (1.0 + log(count))


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _analyse(word: str) -> str:
    """The analysed term of a word ("" for stop words and bare numbers), cached."""
    if len(_TERMS) > 200_000:
        _TERMS.clear()
    term = analyze_word(word) or ""
    _TERMS[word] = term = "" if term.isdigit() else term
    return term


def _word_terms(text: str, limit: int) -> tuple[list[str], list[str]]:
    """(analysed terms, lower-cased words) of the first ``limit`` words of text."""
    words = _WORD.findall(text, 0, len(text))[:limit]
    known = list(map(_TERMS.get, words))
    if None in known:
        known = [_analyse(w) if t is None else t for w, t in zip(words, known, strict=True)]
    return [t for t in known if t], [w.lower() for w in words]


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


def extract(article: Article) -> Features:
    """The clusterer's view of one article."""
    lead = _lead(article.text, LEAD_TOKENS)
    title_terms, title_words = _word_terms(article.title, 60)
    body_terms, body_words = _word_terms(lead, LEAD_TOKENS)
    features = Features()
    title_counts = Counter(title_terms)
    _sublinear(title_counts, 1.0, features.title)
    _sublinear(Counter(body_terms), 1.0, features.vector)
    _sublinear(title_counts, TITLE_BOOST, features.vector)
    _sublinear(_names(lead), NAME_BOOST, features.vector)
    _sublinear(
        _numbers(article.title + "\n" + lead, title_words + body_words),
        NUMBER_BOOST,
        features.vector,
    )
    features.words = body_words
    return features
