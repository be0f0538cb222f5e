"""What the story clusterer sees of an article: weighted features and a near-copy signature.

    Article ──▶ Features
                ├── vector   feature → raw weight (no IDF yet: IDF comes from the stream)
                │            words  "stem"      title words boosted
                │            names  "e:stem"    capitalised proper nouns and name phrases
                │                               (the headline's always, even if the body lacks them)
                │            numbers "n:13"     digits, number words, ages ("4-year-old")
                │            ages   "a:4"       people's ages: "4-year-old", "Girl, 4," ("a:6m")
                │            days   "d:12-11"   days named: "Dec. 11"; if dated, "Sunday", "today"
                ├── title    title words only (for the headline-level similarity)
                ├── title_names  the names and ages in the title (what the article is about)
                ├── days     the days it names (reports of one event name the day it happened)
                └── words    the body's lower-cased words (MinHash shingles for near-copies)

The title is read without the outlet's name that sites append ("… - KSLA News 12 Shreveport"),
which unrelated stories of one site share. Pure functions over text; the same article always
gives the same features, in any process.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from pipeline.models import Article
from pipeline.query.analysis import analyze_word

LEAD_CHARS = 2400  # body looked at (~400 words): the lead carries the event; the tail, furniture
TITLE_BOOST = 1.5
NAME_BOOST = 2.5
NUMBER_BOOST = 1.0
AGE_BOOST = 2.5
DATE_BOOST = 2.5

_WORD = re.compile(r"\w+(?:['’]\w+)*")
_NAME_RUN = re.compile(
    r"(?=[A-Z])(?<![\w'’])(?:[A-Z][\w'’.&-]*)(?:\s+(?:(?:of|de|del|la|van|von|al|bin)\s+)?[A-Z][\w'’.&-]*)*"
)
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_TITLE_PARTS = re.compile(r"\s+[|\-–—:·»«]+\s+|\s+[|«»]")  # "Headline - Outlet | City"
_SQUASH = re.compile(r"[\W_]+")
_COMPOUND = re.compile(r"-[a-z]")  # "Ex-mayor", "Anti-war": a capitalised compound, no name
_SENTENCE_END = re.compile(r"[.!?\"”:]\s*$|\n\s*$")
_COUNTS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty"
)
_ORDINALS = "_ first second third fourth fifth sixth"
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(_COUNTS.split())}
_NUMBER_WORDS.update({w: str(i) for i, w in enumerate(_ORDINALS.split()) if i})
_NUMBER_WORDS.update({"dozen": "12", "dozens": "12"})
# Days: "Dec. 11", "11 December", "Sunday", "yesterday".
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH = (  # case-sensitive: month names are capitalised (and faster to find so)
    r"(Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_NTH = r"(?:st|nd|rd|th)?"
_DATE = re.compile(
    r"\b(?=[JFMASOND\d])"  # what a month or a day number starts with: other places skipped fast
    r"(?:" + _MONTH + r"\s+(\d{1,2})" + _NTH + r"\b|(\d{1,2})" + _NTH + r"\s+" + _MONTH + ")"
)
_DAY_WORD = re.compile(
    r"\b(?=[MTWFSYyt])"
    r"(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|[Yy]esterday|[Tt]oday|[Tt]onight)\b"
)
# Ages: "4-year-old", "six-month-old" (as words: "4", "year", "old"); "Girl, 7, grazed".
_AGE_UNITS = {"year": "", "month": "m", "week": "w", "day": "d"}
_AGE_UNITS.update({unit + "s": short for unit, short in _AGE_UNITS.items()})
_AGE_COMMA = re.compile(r",(?<=[A-Za-z],) (\d{1,3})(?=[,;:]|$)", re.MULTILINE)
# Capitalised words that open sentences or headlines without naming anything.
_OPENERS = (
    "a an the in on at by for of to from and but or as it its he she they we i you his her their "
    "this that these those there here when while after before during since if what who why how "
    "mr mrs ms dr police officials authorities according"
)
# Capitalised but naming no one in particular: days, months, titles before a name.
_GENERIC = (
    "monday tuesday wednesday thursday friday saturday sunday january february march april "
    "june july august september october november december mayor president judge gov sen rep "
    "officer sgt lt capt chief detective minister prime secretary governor senator"
)
_NOT_NAMES = frozenset(_OPENERS.split()) | frozenset(_GENERIC.split())


_TERMS: dict[str, str] = {}  # word → analysed term ("" for stop words and bare numbers)
_NAME_TERMS: dict[str, str] = {}  # capitalised word → analysed name stem ("" if none)
_RUNS: dict[str, tuple[str, tuple[str, ...]]] = {}  # capitalised run → its name features
_SUBLINEAR = [0.0] + [1.0 + math.log(n) for n in range(1, 64)]  # 1 + log(count)


@dataclass(slots=True)
class Features:
    vector: dict[str, float] = field(default_factory=dict)
    title: dict[str, float] = field(default_factory=dict)
    title_names: list[str] = field(default_factory=list)  # "e:"/"a:" names, ages in the title
    days: list[str] = field(default_factory=list)  # "d:" days the article names
    words: list[str] = field(default_factory=list)  # lower-cased body words, for shingles
    signature: list[int] = field(default_factory=list)  # MinHash of the words' shingles
    bands: list[str] = field(default_factory=list)  # its LSH band keys
    evidence: dict[str, list[str]] = field(default_factory=dict)  # who/where/when/how many


def _sublinear(counts: Mapping[str, int], boost: float, into: dict[str, float]) -> None:
    log, table, get = math.log, _SUBLINEAR, into.get
    for key, count in counts.items():
        into[key] = get(key, 0.0) + boost * (table[count] if count < 64 else 1.0 + log(count))


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1


def _analyse(word: str) -> str:
    """The analysed term of a word ("" for stop words and bare numbers), cached."""
    term = analyze_word(word) or ""
    _TERMS[word] = term = "" if term.isdigit() else term
    return term


def _term_counts(word_counts: Mapping[str, int]) -> dict[str, int]:
    """Counts of analysed terms from counts of (lower-cased) words; stop words dropped."""
    terms = _TERMS
    if len(terms) > 200_000:
        terms.clear()
    for word in [w for w in word_counts if w not in terms]:
        _analyse(word)
    counts: dict[str, int] = {}
    get = counts.get
    for word, n in word_counts.items():
        term = terms[word]
        if term:
            counts[term] = get(term, 0) + n
    return counts


def _name_term(part: str) -> str:
    term = _NAME_TERMS.get(part)
    if term is None:
        if len(_NAME_TERMS) > 200_000:
            _NAME_TERMS.clear()
        word = part.strip(".,'’-&")
        generic = word.lower() in _NOT_NAMES or _COMPOUND.search(word) is not None
        term = "" if generic else analyze_word(word) or ""
        _NAME_TERMS[part] = term
    return term


def _runs(run: str) -> list[list[str]]:
    """A capitalised run's words, split at line breaks and after a sentence's full stop."""
    if "\n" not in run and "." not in run:
        return [run.split()]
    out: list[list[str]] = []
    for line in run.split("\n"):
        parts: list[str] = []
        for part in line.split():
            parts.append(part)
            if part[-1] == "." and len(part) > 5:  # "Aster." ends a sentence; "Gov." no
                out.append(parts)
                parts = []
        if parts:
            out.append(parts)
    return out


def title_case(title: str) -> bool:
    """Whether a headline capitalises most of its words ("Teen Dies After Shooting"), so
    that its capitals do not mark names."""
    words = title.split()
    return sum(w[:1].isupper() for w in words) > 0.6 * len(words) > 2


def _title_names(title: str, body_names: Mapping[str, int]) -> list[str]:
    """The names in a headline; its first word too when the body names it (not just opens).
    In a title-case headline only what the body names too."""
    names = set(_names(title))
    if title_case(title):
        names &= body_names.keys()
    match = _NAME_RUN.match(title)
    if match:
        stem = _name_term(match.group().split()[0])
        if stem and "e:" + stem in body_names:
            names.add("e:" + stem)
    return sorted(names)


def _run_features(run: str) -> tuple[str, tuple[str, ...]]:
    """A capitalised run's name features, cached: (a lone first word's feature or "",
    the rest). The lone word counts only when it does not open a sentence."""
    cached = _RUNS.get(run)
    if cached is None:
        lone, features = "", list[str]()
        for n, parts in enumerate(_runs(run)):
            if len(parts) == 1:
                if n == 0:  # later lone words follow a full stop or line break: openers
                    stem = _name_term(parts[0])
                    lone = "e:" + stem if stem else ""
                continue
            kept = [s for s in map(_name_term, parts) if s]
            features.extend("e:" + s for s in kept)
            if len(kept) > 1:
                features.append("e:" + "_".join(kept))
        if len(_RUNS) > 200_000:
            _RUNS.clear()
        cached = _RUNS[run] = (lone, tuple(features))
    return cached


def _names(text: str) -> dict[str, int]:
    """Capitalised runs of words ("Fairmont Terrace", "NATO"), minus sentence openers."""
    counts: dict[str, int] = {}
    get = counts.get
    for match in _NAME_RUN.finditer(text):
        lone, features = _run_features(match.group())
        for key in features:
            counts[key] = get(key, 0) + 1
        if lone:
            start = match.start()
            if start and not _SENTENCE_END.search(text, max(0, start - 4), start):
                counts[lone] = get(lone, 0) + 1
    return counts


def _numbers(text: str, *word_counts: Mapping[str, int]) -> dict[str, int]:
    """Digits in ``text`` and number words among ``word_counts`` (lower-cased words)."""
    counts: dict[str, int] = {}
    for value in _NUMBER.findall(text):
        value = value.replace(",", "")
        if len(value) <= 12:
            _count(counts, "n:" + value.lstrip("0") if value.strip("0") else "n:0")
    for words in word_counts:
        for word, number in _NUMBER_WORDS.items():
            n = words.get(word)
            if n:
                key = "n:" + number
                counts[key] = counts.get(key, 0) + n
    return counts


def _ages(words: list[str], text: str) -> dict[str, int]:
    """People's ages ("a:4" for "4-year-old" or "Girl, 4,"; "a:6m" for "6-month-old"), from
    the lower-cased ``words`` of ``text``: who an event happened to, the same in every report."""
    counts: dict[str, int] = {}
    start = 2
    while True:
        try:
            at = words.index("old", start)
        except ValueError:
            break
        unit = _AGE_UNITS.get(words[at - 1])
        value = _NUMBER_WORDS.get(words[at - 2], words[at - 2])
        if unit is not None and value.isdigit() and len(value) <= 3:
            _count(counts, "a:" + value + unit)
        start = at + 1
    for value in _AGE_COMMA.findall(text):
        _count(counts, "a:" + value)
    return counts


def _dates(text: str, published: date | None) -> dict[str, int]:
    """Days named in the text, as "d:<month>-<day>": "Dec. 11", "11 December", and, when the
    article is dated, "Sunday", "yesterday", "today" (the latest such day up to publication).
    Reports of one event name the day it happened; two events of one kind, other days."""
    counts: dict[str, int] = {}
    for month_a, day_a, day_b, month_b in _DATE.findall(text):
        month = _MONTHS.index((month_a or month_b)[:3].lower()) + 1
        day = int(day_a or day_b)
        if 1 <= day <= 31:
            _count(counts, f"d:{month}-{day}")
    if published is not None:
        for word in _DAY_WORD.findall(text):
            word = word.lower()
            if word in ("today", "tonight"):
                when = published
            elif word == "yesterday":
                when = published - timedelta(days=1)
            else:
                when = published - timedelta(days=(published.weekday() - _WEEKDAYS.index(word)) % 7)
            _count(counts, f"d:{when.month}-{when.day}")
    return counts


def _published_day(article: Article) -> date | None:
    """The day of publication (never after the day after fetching: bad dates)."""
    if article.published is None:
        return None
    return min(article.published, article.fetched + timedelta(days=1)).date()


def _lead(text: str) -> str:
    """The body's first ``LEAD_CHARS`` characters (~400 words), cut at a space."""
    if len(text) <= LEAD_CHARS:
        return text
    cut = text.rfind(" ", LEAD_CHARS // 2, LEAD_CHARS)
    return text[: cut if cut > 0 else LEAD_CHARS]


def _outlet_labels(article: Article) -> list[str]:
    """Squashed names of the outlet: its site name and the labels of its host names."""
    labels = [_SQUASH.sub("", (article.site_name or "").lower())]
    for host in (article.source, (article.link or "").split("//", 1)[-1].split("/", 1)[0]):
        labels.extend(host.lower().split(":")[0].split(".")[:-1])
    return [label for label in labels if len(label) >= 3 and label != "www"]


def _names_outlet(part: str, labels: list[str], last: bool) -> bool:
    """Whether a title segment names the outlet ("KSLA News 12" on ksla.com)."""
    squashed = _SQUASH.sub("", part.lower())
    if len(squashed) < 3:
        return last  # a cut-off fragment at the end
    return any(
        label in squashed or (len(squashed) >= 4 and squashed in label) for label in labels
    )


def headline(article: Article) -> str:
    """The title without the outlet's name that sites append ("Headline - KSLA News 12 ·
    Shreveport"): outlet furniture is shared by unrelated stories of one site."""
    parts = _TITLE_PARTS.split(article.title)
    if len(parts) < 2:
        return article.title
    labels = _outlet_labels(article)
    for n in range(1, len(parts)):
        if _names_outlet(parts[n], labels, n == len(parts) - 1):
            return " - ".join(parts[:n])
    return article.title


def extract(article: Article) -> Features:
    """The clusterer's view of one article."""
    return extract_with_days(article)[0]


def extract_with_days(article: Article) -> tuple[Features, dict[str, int]]:
    """``extract``, and the days the headline and lead name with their counts (``_dates``:
    the event evidence counts them too, from the same text)."""
    lead = _lead(article.text)
    findall = _WORD.findall
    title = headline(article)
    title_words = findall(title.lower())[:60]  # analysis lower-cases first anyway
    body_words = findall(lead.lower())
    title_word_counts, body_word_counts = Counter(title_words), Counter(body_words)
    features = Features()
    title_counts = _term_counts(title_word_counts)
    _sublinear(title_counts, 1.0, features.title)
    _sublinear(_term_counts(body_word_counts), 1.0, features.vector)
    _sublinear(title_counts, TITLE_BOOST, features.vector)
    body_names = _names(lead)
    _sublinear(body_names, NAME_BOOST, features.vector)
    _sublinear(
        _numbers(title + "\n" + lead, title_word_counts, body_word_counts),
        NUMBER_BOOST,
        features.vector,
    )
    title_ages = _ages(title_words, title)
    ages = _ages(body_words, lead)
    for age, n in title_ages.items():
        ages[age] = ages.get(age, 0) + n
    _sublinear(ages, AGE_BOOST, features.vector)
    published = _published_day(article)
    days = _dates(title + "\n" + lead, published)
    _sublinear(days, DATE_BOOST, features.vector)
    features.days = sorted(days)
    features.title_names = _title_names(title, body_names) + sorted(title_ages)
    headline_names = {f: 1 for f in features.title_names if f.startswith("e:")}
    _sublinear(headline_names, NAME_BOOST, features.vector)  # even when the body misses them
    features.words = body_words
    return features, days
