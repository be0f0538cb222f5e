"""The head of an article's text: a leading dateline, a headline line and a byline.

These are metadata written into the text. ``take_dateline`` splits a leading
"date 2024-06-13" / "Published: June 13, 2024" off the first line; ``is_headline``
says whether a first line reads as a headline; ``parse_byline`` recognises a short
line of a person's name (optionally "By ..." and a place after it) and returns the
author's name.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
            ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
            ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?P<iso>(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?)"
    rf"|(?P<mdy>(?P<mon1>{_MONTH}) (?P<d1>\d{{1,2}}),? (?P<y1>\d{{4}}))"
    rf"|(?P<dmy>(?P<d2>\d{{1,2}}) (?P<mon2>{_MONTH}),? (?P<y2>\d{{4}}))"
)
_DATELINE = re.compile(
    r"^\W*(?:(?:date|dated|published|posted|first published|updated|last updated)"
    r"(?: on)?\s*[:\-–—|]?\s*)?"
    rf"(?:{_DATE})(?:,? (?:at )?\d{{1,2}}[:.]\d{{2}}(?: ?[ap]\.?m\.?)?(?: [A-Z]{{2,4}})?)?"
    r"\s*(?:[|·•\-–—:]\s*)?",
    re.IGNORECASE,
)


def _parse_date(match: re.Match[str]) -> datetime | None:
    try:
        if match.group("iso"):
            y, m, d = int(match.group("y")), int(match.group("m")), int(match.group("d"))
        elif match.group("mdy"):
            y, d = int(match.group("y1")), int(match.group("d1"))
            m = _MONTHS[match.group("mon1").lower()[:3]]
        else:
            y, d = int(match.group("y2")), int(match.group("d2"))
            m = _MONTHS[match.group("mon2").lower()[:3]]
        return datetime(y, m, d, tzinfo=UTC)
    except (ValueError, KeyError):
        return None


def take_dateline(line: str) -> tuple[datetime | None, str]:
    """Split a leading dateline off ``line``: (its date, the rest of the line)."""
    match = _DATELINE.match(line)
    if match is None or not match.group(0).strip():
        return None, line
    date = _parse_date(match)
    if date is None:
        return None, line
    return date, line[match.end() :].strip()


_HEADLINE_END = re.compile(r"[.,;:]$")


def is_headline(line: str, next_line: str | None) -> bool:
    """A first line that reads as a headline: short, no closing period, text follows."""
    if next_line is None:
        return False
    words = line.count(" ") + 1
    return 3 <= words <= 30 and len(line) <= 220 and not _HEADLINE_END.search(line)


_NAME = r"(?:[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)*|[A-Z]\.|(?:Mc|Mac|O')[A-Z][a-z]+)"
_PARTICLE = r"(?:de|da|del|der|van|von|al|el|bin|la|le|di|du)"
_PERSON = rf"{_NAME}(?: {_PARTICLE})?(?: {_NAME}){{1,2}}"
_PLACE_WORD = r"(?:[A-Z][A-Za-z.'’-]*|of|and|the)"
_BYLINE = re.compile(
    rf"^(?:by:? )?(?P<author>{_PERSON}(?:(?:,| and| &) {_PERSON})*)"
    rf"(?:(?:,| -| –| —| \|| in| for)? {_PLACE_WORD}(?: {_PLACE_WORD}){{0,4}})?$",
    re.IGNORECASE,
)
_BY_PREFIX = re.compile(r"^by:? ", re.IGNORECASE)
# First words that make a short capitalised line a section label, not a person.
_NOT_NAMES = frozenset(
    {
        "news", "world", "breaking", "live", "latest", "updates", "update", "home", "key",
        "points", "top", "stories", "story", "opinion", "analysis", "editorial", "editor",
        "editors", "staff", "video", "videos", "photo", "photos", "watch", "listen", "more",
        "related", "read", "the", "a", "an", "in", "on", "at", "how", "why", "what", "who",
        "when", "where", "this", "that", "our", "your", "my", "his", "her", "their", "we", "i",
        "us", "uk", "eu", "un", "new", "old", "first", "last", "share", "comments", "sign", "log",
        "subscribe", "advertisement", "sponsored", "sports", "sport", "business", "politics",
        "tech", "technology", "science", "health", "culture", "travel", "style", "markets",
        "economy", "entertainment", "local", "national", "international", "press", "release",
        "contact", "about", "menu", "search",
    }
)


def parse_byline(
    line: str, next_line: str | None, known_author: str | None = None
) -> str | None:
    """The author named by a byline line, or ``None`` if ``line`` is not one.

    A line without "By" is only a byline when it names ``known_author`` (the feed's or
    the page's metadata), or, with no author known, when it is not in capitals: a
    section heading ("NISSAN SENTRA") reads like a bare name."""
    words = line.split(" ")
    has_by = _BY_PREFIX.match(line) is not None
    if not 2 <= len(words) <= (12 if has_by else 8) or any(c.isdigit() for c in line):
        return None
    if not has_by:
        # Without "By", demand capitalised words, a name-like start and a paragraph next.
        if not all(w[:1].isupper() or w in ("and", "of", "the", "de", "van", "von") for w in words):
            return None
        if words[0].lower() in _NOT_NAMES or words[1].lower().strip(",") in _NOT_NAMES:
            return None
        if next_line is None or next_line.count(" ") < 15:
            return None
    match = _BYLINE.match(line)
    if match is None:
        return None
    author = match.group("author")
    if not has_by:
        author = " ".join(author.split(" ")[: _name_length(author.split(" "))])
        if not _names_known(author, known_author, line):
            return None
    return author.strip(" ,")


def _names_known(name: str, known_author: str | None, line: str) -> bool:
    """Whether a bare name may be the byline: it is the known author (by surname), or no
    author is known and the line is not in capitals."""
    if known_author:
        return name.split(" ")[-1].casefold() in known_author.casefold()
    return not line.isupper()


def _name_length(tokens: list[str]) -> int:
    """How many tokens make the person's name at the start of a bare byline (2 or 3)."""
    if len(tokens) >= 3 and (
        tokens[1].endswith(".") or re.fullmatch(_PARTICLE, tokens[1], re.IGNORECASE)
    ):
        return 3
    return 2
