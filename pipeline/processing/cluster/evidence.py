"""Event-level evidence in an article: who, where, when and how many, as written.

    who      "e:<stem>"  people and bodies named in capitalised runs of two or more words
    where    "e:<stem>"  places: runs after "in / at / near / outside …", "Town, St." pairs,
                         an upper-case dateline, runs ending in a place word ("… County",
                         "… Street", "… Center")
    when     "d:12-11"   days: "Dec. 11"; with the article's date also "Sunday", "yesterday"
             "y:2008"    years written ("in 2008", "Dec. 11, 2008")
             "w:sunday"  weekdays written (an undated article cannot resolve them)
    count    "k:3"       people counted: "3 people", "killing three", "two dead"
    measure  "m:6.1"     magnitudes ("magnitude 6.1", "6.1-magnitude"); "$:160m" amounts
    age      "a:33"      people's ages ("33-year-old", "Smith, 33,")

Reports of one event agree on these; two events of one kind (two quakes, two shootings in
one city) differ on some of them even when their words match. Names are the same ``e:``
stems as in the clusterer's vector, so "mentioned anywhere in the story" can be checked
against its centroid. Gazetteer-free: patterns of English news prose, no lists of places.
Text is read as written or tokenised ("36 - year - old", "$ 160 million").
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import date

from pipeline.processing.cluster.features import (
    _NAME_RUN,
    _NUMBER_WORDS,
    _WEEKDAYS,
    _dates,
    _name_term,
    title_case,
)

KINDS = ("who", "where", "when", "count", "measure", "age")
CAP = 8  # values kept per kind and article
HEAD_CHARS = 1200  # who / where / how many: the title and the first paragraphs

_PREP_PLACE = re.compile(
    r"\b(?:in|at|near|outside|inside|across|around|throughout|off)\s+(?:the\s+)?"
    r"((?:[A-Z][\w'’.&-]*)(?:\s+(?:of\s+)?[A-Z][\w'’.&-]*)*)"
)
_TOWN_STATE = re.compile(  # \b([A-Z][a-z]+…: the boundary checked behind the capital, which
    # the regex engine then skips to (1.7 × faster)
    r"([A-Z](?<!\w[A-Z])[a-z]+(?:\s[A-Z][a-z]+)?),\s+(?:[A-Z][a-z]{1,4}\.|[A-Z]{2}\b)"
)
_DATELINE = re.compile(r"^\s*([A-Z]{3,}(?:[ .'-]+[A-Z]{2,})*)\b\s*(?:,|\(|[-–—])")
_PLACE_WORDS = frozenset((
    "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "drive", "lane",
    "highway", "county", "parish", "park", "center", "centre", "church", "school", "hospital",
    "mall", "station", "airport", "bridge", "island", "province", "township", "city", "village",
    "beach", "valley", "bay", "square", "hotel", "stadium", "arena", "river", "lake", "mountain",
    "district", "state", "region", "coast", "gulf", "university", "college", "prison", "jail",
    "court", "courthouse", "building", "apartments", "store", "market", "harbor", "harbour",
    "port",
))
_NUM = r"(\d+(?:[.,]\d+)?|" + "|".join(_NUMBER_WORDS) + r")"
# What a number can start with: a lookahead that lets the scan skip other positions fast
# (the same matches: every alternative of _NUM starts with one of these).
_NUM_START = r"(?=[\d" + "".join(sorted({w[0] for w in _NUMBER_WORDS})) + "])"
_PEOPLE_WORDS = (
    "people", "persons", "dead", "killed", "injured", "wounded", "hurt", "victims", "deaths",
    "died", "bodies", "men", "women", "children", "teens", "teenagers", "students", "officers",
    "soldiers", "civilians", "others",
)
_PEOPLE = "(?:" + "|".join(_PEOPLE_WORDS) + ")"
_COUNT_AFTER = re.compile(
    r"\b" + _NUM_START + _NUM + r"\s+(?:\w+\s+){0,2}?" + _PEOPLE + r"\b", re.IGNORECASE
)
_COUNT_BEFORE = re.compile(
    r"\b(?=[kwis])(?:killing|killed|kills|wounding|wounded|injuring|injured|shot|shooting)\s+"
    + _NUM + r"\b",
    re.IGNORECASE,
)
_MAGNITUDE = re.compile(
    r"(?=[\dm])(?:\b(\d\.\d)\s*-?\s*(?:magnitude|on the richter)"
    r"|\bmagnitude\s*(?:-\s*|of\s+)?(\d\.\d)\b)",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"(?=[$€£ue])(?:[$€£]|\b(?:US|USD|EUR)\s*)\s*(\d+(?:[.,]\d+)?)\s*(million|billion|m|bn|k)?\b",
    re.IGNORECASE,
)
_AGE_START = r"(?=[,\d" + "".join(sorted({w[0] for w in _NUMBER_WORDS})) + "])"
_AGE_YEARS_OLD = (  # "33-year-old", "two-month-old"
    r"\b(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\s*-?\s*(year|month)s?\s*-?\s*old\b"
)
_AGE_AFTER_NAME = r"(?<=[A-Za-z]),\s(\d{1,2}),"  # "Smith, 33,"
# Each alternative alone: they never overlap, so their matches are those of the two as one
# pattern, and each can be skipped where it cannot match.
_AGE_YEARS = re.compile(_AGE_START + "(?:" + _AGE_YEARS_OLD + ")", re.IGNORECASE)
_AGE_COMMA = re.compile(r",(?<=[A-Za-z],)\s(\d{1,2}),", re.IGNORECASE)  # found by its ","
# Years and weekdays start with a literal character, the word boundary before it checked
# behind it: the regex engine then skips to those characters (3 × faster than "\b(…)").
_YEAR = re.compile(r"(1(?<!\w1)9[5-9]\d|2(?<!\w2)0[0-4]\d)\b")  # \b(19[5-9]\d|20[0-4]\d)\b
_WEEKDAY = re.compile(  # \b(Monday|…|Sunday)\b
    "(" + "|".join(f"{w[0].upper()}(?<!\\w{w[0].upper()}){w[1:]}" for w in _WEEKDAYS) + r")\b"
)
_SCALE = {"million": "m", "m": "m", "billion": "b", "bn": "b", "k": "k", "": ""}
# Prefilters: a pattern runs only where the words it needs occur, checked with ``in`` on the
# lower-cased text (C speed), so most articles skip most patterns. Exact: a case-insensitive
# match of ASCII letters is a substring of ``text.lower()`` unless the text holds one of the
# four non-ASCII letters that fold to ASCII ones (then every pattern runs).
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")  # İ ı ſ K (Kelvin)
_COUNT_VERBS = ("kill", "wound", "injur", "shot", "shoot")
_COMMA_NUMBER = re.compile(r",\s\d")  # what _AGE_COMMA needs (no letters: case is moot)


def _lower_twin(pattern: re.Pattern[str]) -> re.Pattern[str]:
    """The case-sensitive twin of a case-insensitive pattern, for ``_lowered`` text: the same
    spans, 1.2–1.6 × faster (no case folding per character). ``str.lower`` keeps every
    character's length and class (word, space, digit) but İ's, which ``_lowered`` excludes."""
    if re.search(r"\\[A-Z]", pattern.pattern):
        raise ValueError(f"{pattern.pattern!r}: an upper-case escape changes meaning lowered")
    return re.compile(pattern.pattern.lower())


_COUNT_AFTER_LOW = _lower_twin(_COUNT_AFTER)
_COUNT_BEFORE_LOW = _lower_twin(_COUNT_BEFORE)
_MAGNITUDE_LOW = _lower_twin(_MAGNITUDE)
_AMOUNT_LOW = _lower_twin(_AMOUNT)
_AGE_YEARS_LOW = _lower_twin(_AGE_YEARS)

Evidence = dict[str, list[str]]


def _number(value: str) -> str:
    value = _NUMBER_WORDS.get(value.lower(), value).replace(",", "")
    return value.rstrip("0").rstrip(".") if "." in value else value.lstrip("0") or "0"


def _stems(run: str) -> list[str]:
    return ["e:" + s for s in (_name_term(w) for w in run.split()) if s and len(s) > 1]


def _lowered(text: str) -> str | None:
    """``text.lower()`` when it shows every case-insensitive match of ASCII words in
    ``text`` (see the prefilters above), else None."""
    if text.isascii() or _FOLDS_TO_ASCII.search(text) is None:
        return text.lower()
    return None


def _places(text: str, name_runs: list[str]) -> Counter[str]:
    runs = _PREP_PLACE.findall(text) + _TOWN_STATE.findall(text)  # one group each: its text
    dateline = _DATELINE.match(text)
    if dateline:
        runs.append(dateline.group(1).title())
    for run in name_runs:
        words = run.split()
        if len(words) > 1 and words[-1].lower().strip(".") in _PLACE_WORDS:
            runs.append(" ".join(words[:-1]))
    return Counter([s for run in runs for s in _stems(run) if s[2:] not in _PLACE_WORDS])


def _people(name_runs: list[str], places: Counter[str]) -> Counter[str]:
    people: list[str] = []
    for run in name_runs:
        stems = _stems(run)
        if len(stems) > 1 and not any(s in places for s in stems):
            people += stems
    return Counter(people)


def _quantities(text: str) -> tuple[Counter[str], Counter[str], Counter[str]]:
    low = _lowered(text)
    every = low is None  # a letter that folds to ASCII: every pattern, case-insensitive
    if low is None:
        count_after, count_before, magnitude, amount, years_old = (
            _COUNT_AFTER, _COUNT_BEFORE, _MAGNITUDE, _AMOUNT, _AGE_YEARS)
        low, scan = "", text
    else:
        count_after, count_before, magnitude, amount, years_old = (
            _COUNT_AFTER_LOW, _COUNT_BEFORE_LOW, _MAGNITUDE_LOW, _AMOUNT_LOW, _AGE_YEARS_LOW)
        scan = low
    counts: Counter[str] = Counter()
    if every or any(w in low for w in _PEOPLE_WORDS):
        counts.update("k:" + _number(m.group(1)) for m in count_after.finditer(scan))
    if every or any(w in low for w in _COUNT_VERBS):
        counts.update("k:" + _number(m.group(1)) for m in count_before.finditer(scan))
    measures: Counter[str] = Counter()
    if every or "magnitude" in low or "richter" in low:
        for m in magnitude.finditer(scan):
            measures["m:" + (m.group(1) or m.group(2))] += 1
    for m in amount.finditer(scan):
        measures["$:" + _number(m.group(1)) + _SCALE[(m.group(2) or "").lower()]] += 1
    # _AGE's two alternatives never overlap (one holds a comma, the other none, and
    # neither can start inside the other): their matches are those of each alone.
    ages: Counter[str] = Counter()
    if every or ("old" in low and ("year" in low or "month" in low)):
        for m in years_old.finditer(scan):
            ages["a:" + _number(m.group(1)) + ("m" if m.group(2).lower() == "month" else "")] += 1
    if _COMMA_NUMBER.search(text):
        ages.update("a:" + m.group(1) for m in _AGE_COMMA.finditer(text))
    return counts, measures, ages


def _top(counts: Counter[str]) -> list[str]:
    return sorted(sorted(counts), key=lambda k: -counts[k])[:CAP]


def extract_evidence(title: str, lead: str, published: date | None,
                     days: Mapping[str, int] | None = None) -> Evidence:
    """The evidence of one article: kind → up to ``CAP`` values, most frequent first.
    ``days``: ``_dates`` of the same title, lead and date when already found."""
    head = title + "\n" + lead[:HEAD_CHARS]
    matches = list(_NAME_RUN.finditer(head))
    head_runs = [m.group() for m in matches]
    places = _places(head, head_runs)
    lead_runs = head_runs
    if title_case(title):  # the runs of the lead alone: those of the head after the title, unless
        # one runs on from the title into the lead
        end = len(title)
        lead_runs = ([m.group() for m in matches if m.start() > end]
                     if all(m.end() <= end or m.start() > end for m in matches)
                     else _NAME_RUN.findall(lead[:HEAD_CHARS]))
    counts, measures, ages = _quantities(head)
    when: Counter[str] = Counter(_dates(title + "\n" + lead, published) if days is None
                                 else days)
    when.update("y:" + y for y in _YEAR.findall(head))
    if "day" in head:
        when.update("w:" + w.lower() for w in _WEEKDAY.findall(head))
    found = {
        "who": _people(lead_runs, places),
        "where": places,
        "when": when,
        "count": counts,
        "measure": measures,
        "age": ages,
    }
    return {kind: _top(values) for kind, values in found.items() if values}
