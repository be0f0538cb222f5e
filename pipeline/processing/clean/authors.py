"""An author field as people's names, with the byline's role in a field of its own.

Pages and feeds name authors in many shapes: "By Tom Krisher, AP Auto Writer",
"Tom Gillespie News reporter @TomGillespie1", "By Carrie Arnold November 15, 2019",
"Amy Kuperinsky; NJ Advance Media", "JANIE HAR". ``split_author`` returns the names
("Tom Krisher"; several joined by "; ") and the role or outlet ("AP Auto Writer").
A byline with no person in it ("HNN Staff", "Associated Press") is kept whole as the
author, with no role: it is the attribution there is.
"""

from __future__ import annotations

import re


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_MONTHS = _words(
    "jan feb mar apr may jun jul aug sep sept oct nov dec january february march april "
    "june july august september october november december"
)
# Words that make a part of a byline a role or an outlet, not a name.
_ROLE_WORDS = _words(
    "writer writers reporter reporters correspondent editor editors contributor columnist "
    "producer journalist photographer analyst anchor critic chief senior deputy managing "
    "contributing special news media press business insider sport sports com magazine "
    "times post daily herald tribune journal network radio tv television online digital "
    "associated agency"
)
# ... and those that make it a desk's byline (no person in it at all).
_DESK_WORDS = _words("staff reports desk team wire newsroom bureau editorial")
_PARTICLES = _words("de da del der van von al el bin la le di du")
_NAME_TOKEN = re.compile(r"[A-Z](?:[a-z]*[A-Z]?[a-z'’-]*)*\.?$|[A-Z]\.?$")
_SPLIT = re.compile(r"\s*(?:;|,|\||\band\b|&)\s*")
_BY = re.compile(r"^\s*by:?\s+", re.IGNORECASE)
_HANDLE = re.compile(r"@\w+|\S+@\S+\.\w+")


def split_author(value: str | None) -> tuple[str | None, str | None]:
    """(names, role) of an author field; the value unchanged with no role when it names
    no person."""
    if not value or not value.strip():
        return None, None
    text = _HANDLE.sub(" ", _BY.sub("", value))
    names: list[str] = []
    roles: list[str] = []
    for index, part in enumerate(p for p in _SPLIT.split(text) if p.strip()):
        tokens = _without_date(part.split())
        if not tokens:
            continue
        lower = [t.lower().strip(".") for t in tokens]
        if any(t in _DESK_WORDS for t in lower):
            roles.append(" ".join(tokens))
            continue
        mixed = not part.isupper() or len(tokens) == 1  # "CNN" alone is an outlet
        cut = next((i for i, (t, low) in enumerate(zip(tokens, lower, strict=True))
                    if low in _ROLE_WORDS or (mixed and _is_acronym(t))), len(tokens))
        head = tokens[:cut] if index == 0 or cut == len(tokens) else []
        if _is_name(head):
            names.append(_name_case(head))
            if cut < len(tokens):
                roles.append(" ".join(tokens[cut:]))
        elif cut < len(tokens) or (index and all(t.isalpha() for t in tokens)):
            roles.append(" ".join(tokens))  # an outlet after the name: "Jane Doe, Reuters"
    names = _distinct(names)
    if not names:
        return " ".join(_without_date(text.split())) or " ".join(value.split()), None
    return "; ".join(names), "; ".join(dict.fromkeys(roles)) or None


def _without_date(tokens: list[str]) -> list[str]:
    """Cut a trailing date ("November 15, 2019 10:43") off a byline part's tokens."""
    for i, token in enumerate(tokens):
        if i >= 2 and (token.lower().strip(".,") in _MONTHS or token[:1].isdigit()):
            return tokens[:i]
    return tokens


def _is_acronym(token: str) -> bool:
    return 2 <= len(token) <= 5 and token.isalpha() and token.isupper()


def _is_name(tokens: list[str]) -> bool:
    if not 2 <= len(tokens) <= 4:
        return False
    return all(t.lower() in _PARTICLES or _NAME_TOKEN.match(t if not t.isupper() else t.title())
               for t in tokens)


def _name_case(tokens: list[str]) -> str:
    """The name, title-cased when written in capitals ("JANIE HAR" → "Janie Har")."""
    return " ".join(t.title() if t.isupper() and len(t.strip(".")) > 1 else t for t in tokens)


def _distinct(names: list[str]) -> list[str]:
    """Names without repeats of one person ("Troy Smith", "Troy L Smith")."""
    seen: set[tuple[str, str]] = set()
    out = []
    for name in names:
        parts = name.casefold().split()
        key = (parts[0], parts[-1])
        if key not in seen:
            seen.add(key)
            out.append(name)
    return out
