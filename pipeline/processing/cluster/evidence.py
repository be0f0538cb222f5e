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
)

KINDS = ("who", "where", "when", "count", "measure", "age")
CAP = 8  # values kept per kind and article
HEAD_CHARS = 1200  # who / where / how many: the title and the first paragraphs

_PREP_PLACE = re.compile(
    r"\b(?:in|at|near|outside|inside|across|around|throughout|off)\s+(?:the\s+)?"
    r"((?:[A-Z][\w'’.&-]*)(?:\s+(?:of\s+)?[A-Z][\w'’.&-]*)*)"
)
_TOWN_STATE = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)?),\s+(?:[A-Z][a-z]{1,4}\.|[A-Z]{2}\b)")
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
_PEOPLE = (
    r"(?:people|persons|dead|killed|injured|wounded|hurt|victims|deaths|died|bodies|men|women|"
    r"children|teens|teenagers|students|officers|soldiers|civilians|others)"
)
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
_AGE = re.compile(
    r"(?=[,\d" + "".join(sorted({w[0] for w in _NUMBER_WORDS})) + "])(?:"
    r"\b(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\s*-?\s*(year|month)s?\s*-?\s*old\b"
    r"|(?<=[A-Za-z]),\s(\d{1,2}),)",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(w.capitalize() for w in _WEEKDAYS) + r")\b")
_SCALE = {"million": "m", "m": "m", "billion": "b", "bn": "b", "k": "k", "": ""}

Evidence = dict[str, list[str]]


def _number(value: str) -> str:
    value = _NUMBER_WORDS.get(value.lower(), value).replace(",", "")
    return value.rstrip("0").rstrip(".") if "." in value else value.lstrip("0") or "0"


def _stems(run: str) -> list[str]:
    return ["e:" + s for s in (_name_term(w) for w in run.split()) if s and len(s) > 1]


def _places(text: str) -> Counter[str]:
    found: Counter[str] = Counter()
    runs = [m.group(1) for m in _PREP_PLACE.finditer(text)]
    runs += [m.group(1) for m in _TOWN_STATE.finditer(text)]
    dateline = _DATELINE.match(text)
    if dateline:
        runs.append(dateline.group(1).title())
    for match in _NAME_RUN.finditer(text):
        words = match.group().split()
        if len(words) > 1 and words[-1].lower().strip(".") in _PLACE_WORDS:
            runs.append(" ".join(words[:-1]))
    for run in runs:
        found.update(s for s in _stems(run) if s[2:] not in _PLACE_WORDS)
    return found


def _people(text: str, places: Counter[str]) -> Counter[str]:
    found: Counter[str] = Counter()
    for match in _NAME_RUN.finditer(text):
        stems = _stems(match.group())
        if len(stems) > 1 and not any(s in places for s in stems):
            found.update(stems)
    return found


def _quantities(text: str) -> tuple[Counter[str], Counter[str], Counter[str]]:
    counts: Counter[str] = Counter()
    for pattern in (_COUNT_AFTER, _COUNT_BEFORE):
        counts.update("k:" + _number(m.group(1)) for m in pattern.finditer(text))
    measures: Counter[str] = Counter()
    for m in _MAGNITUDE.finditer(text):
        measures["m:" + (m.group(1) or m.group(2))] += 1
    for m in _AMOUNT.finditer(text):
        measures["$:" + _number(m.group(1)) + _SCALE[(m.group(2) or "").lower()]] += 1
    ages: Counter[str] = Counter()
    for m in _AGE.finditer(text):
        if m.group(3):
            ages["a:" + m.group(3)] += 1
        else:
            ages["a:" + _number(m.group(1)) + ("m" if m.group(2).lower() == "month" else "")] += 1
    return counts, measures, ages


def _top(counts: Counter[str]) -> list[str]:
    return sorted(sorted(counts), key=lambda k: -counts[k])[:CAP]


def extract_evidence(title: str, lead: str, published: date | None,
                     days: Mapping[str, int] | None = None) -> Evidence:
    """The evidence of one article: kind → up to ``CAP`` values, most frequent first.
    ``days``: ``_dates`` of the same title, lead and date when already found."""
    head = title + "\n" + lead[:HEAD_CHARS]
    places = _places(head)
    words = title.split()
    title_case = sum(w[:1].isupper() for w in words) > 0.6 * len(words) > 2
    counts, measures, ages = _quantities(head)
    when: Counter[str] = Counter(_dates(title + "\n" + lead, published) if days is None
                                 else days)
    when.update("y:" + y for y in _YEAR.findall(head))
    when.update("w:" + w.lower() for w in _WEEKDAY.findall(head))
    found = {
        "who": _people(lead[:HEAD_CHARS] if title_case else head, places),
        "where": places,
        "when": when,
        "count": counts,
        "measure": measures,
        "age": ages,
    }
    return {kind: _top(values) for kind, values in found.items() if values}

