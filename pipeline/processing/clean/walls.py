"""Pages that are not articles: consent walls, paywalls, bot challenges, error pages.

``wall_reason`` looks for the wording of such pages in a page's title and text and needs
strong evidence, not one phrase:

- a wall speaks in short lines of its own (a call to action, a banner, a button; markup
  is read one text node a line): wording inside a longer line of prose ("thanks to our
  paid subscribers, the subscriber-only Q&A is on Thursday") is a mention, not evidence;
- at least one of those lines has wording only a wall uses ("subscribe to continue
  reading", "checking your browser"); wording an article's footer may share too
  ("subscriber-only", "cookie policy", "404") only adds to that;
- what is left beside the wall's lines is a teaser too short to be an article: under
  ``TEASER_CHARS`` with one wall phrase, under ``WALL_TEASER_CHARS`` with two different
  ones ("subscribe to continue reading" and "already a subscriber?").

The cleaner only calls this when too little reporting is left to make an article, so a
long article that mentions cookies or a 404 error is never refused for it.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

LINE_CHARS = 200  # a wall's line is short; a longer line is prose that mentions the words
TEASER_CHARS = 300  # one wall line beside this much other text: an article, not a wall
WALL_TEASER_CHARS = 900  # two different wall phrases: the teaser may be up to this long

# Per kind: the wording that only a wall uses (a blocking call to action, a challenge),
# and wording that a wall uses but an article's footer may too (weak: it adds to strong
# evidence, never makes it).
_WALLS: list[tuple[str, re.Pattern[str], re.Pattern[str]]] = [
    (
        "bot-challenge",
        re.compile(
            r"\bchecking (?:if the site connection is secure|your browser)"
            r"|\benable javascript and cookies\b|\bverify (?:that )?you are (?:a )?human\b"
            r"|\bare you a robot\b|\battention required\b|\bddos protection\b"
            r"|\bunusual traffic from your\b|\bpress (?:&|and) hold\b"
            r"|\baccess to this page has been denied\b|\bbot (?:protection|verification)\b",
            _I,
        ),
        re.compile(r"\bjust a moment\b|\bcaptcha\b|\baccess denied\b"
                   r"|\bplease (?:enable|turn on) javascript\b", _I),
    ),
    (
        "consent",
        re.compile(
            r"\bwe value your privacy\b|\bwe and our (?:\d+ )?(?:partners|vendors)\b"
            r"|\baccept (?:all )?cookies\b|\bcookie consent\b|\bbefore you continue\b"
            r"|\bmanage (?:cookie|privacy|consent) (?:settings|preferences|options)\b"
            r"|\bconsent to (?:the use of|our use of)\b|\breject all\b",
            _I,
        ),
        re.compile(r"\bcookie (?:settings|preferences|policy)\b|\b(?:use of|we use) cookies\b"
                   r"|\bprivacy choices\b", _I),
    ),
    (
        "paywall",
        re.compile(
            r"\bsubscribe (?:now )?to (?:continue|keep) reading\b"
            r"|\bto (?:continue|keep) reading,? (?:please )?(?:subscribe|log in|sign in|register)"
            r"|\b(?:article|content|story|post) is (?:only )?(?:available|reserved|exclusive)"
            r" (?:to|for) (?:paying |paid )?(?:subscribers|members)\b"
            r"|\bthis (?:post|article|story) is for (?:paid|paying) (?:subscribers|members)\b"
            r"|\byou(?:'ve| have) reached (?:your|the) (?:free )?(?:article|story|monthly) limit\b"
            r"|\bunlock (?:this|full) (?:article|story)\b",
            _I,
        ),
        re.compile(r"\bsubscribers?[- ]only\b|\balready a (?:paid |paying )?subscriber\b"
                   r"|\bpaid subscribers?\b", _I),
    ),
    (
        "error-page",
        re.compile(
            r"\b(?:page|article|content) (?:was )?not found\b|\berror (?:404|500|503)\b"
            r"|\bthe page you (?:are|were) looking for\b|\binternal server error\b"
            r"|\bpage (?:does not|doesn't) exist\b|\b404 not found\b",
            _I,
        ),
        re.compile(r"\b404\b|\bservice (?:temporarily )?unavailable\b|\bbad gateway\b"
                   r"|\b(?:is|are) no longer available\b", _I),
    ),
]

_TAG = re.compile(r"<(script|style)\b.*?</\1\s*>|<!--.*?-->|<[^>]+>", re.IGNORECASE | re.DOTALL)
_ENTITY = re.compile(r"&(?:nbsp|amp|quot|#39|#160);")


def lines_of(*texts: str | None) -> list[str]:
    """The texts' non-empty lines; markup is read one text node a line."""
    out: list[str] = []
    for text in texts:
        if not text:
            continue
        plain = _ENTITY.sub(" ", _TAG.sub("\n", text)) if "<" in text else text
        out.extend(" ".join(line.split()) for line in plain.splitlines())
    return [line for line in out if line]


def wall_evidence(strong: re.Pattern[str], weak: re.Pattern[str],
                  lines: list[str]) -> tuple[set[str], int]:
    """(the distinct wall phrases on short lines, none unless one is strong; the
    characters of every other line)."""
    phrases: set[str] = set()
    has_strong = False
    teaser = 0
    for line in lines:
        found = {m.group(0).lower() for m in strong.finditer(line)}
        mentions = {m.group(0).lower() for m in weak.finditer(line)}
        if (found or mentions) and len(line) <= LINE_CHARS:
            has_strong = has_strong or bool(found)
            phrases |= found | mentions
        else:
            teaser += len(line)
    return (phrases if has_strong else set()), teaser


def wall_reason(*texts: str | None) -> str | None:
    """The kind of non-article page the texts show (``"consent"``, ...), or ``None`` when
    the evidence is not strong enough (see the module's docstring)."""
    lines = lines_of(*texts)
    if not lines:
        return None
    for reason, strong, weak in _WALLS:
        phrases, teaser = wall_evidence(strong, weak, lines)
        if phrases and teaser < (WALL_TEASER_CHARS if len(phrases) > 1 else TEASER_CHARS):
            return reason
    return None
