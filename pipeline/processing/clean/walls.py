"""Pages that are not articles: consent walls, paywalls, bot challenges, error pages.

``wall_reason`` looks for the wording of such pages in a page's title and text. The
cleaner only calls it when too little reporting is left to make an article, so a
long article that mentions cookies or a 404 error is never refused for it.
"""

from __future__ import annotations

import re

_I = re.IGNORECASE

_WALLS: list[tuple[str, re.Pattern[str]]] = [
    (
        "bot-challenge",
        re.compile(
            r"\bjust a moment\b|\bchecking (?:if the site connection is secure|your browser)"
            r"|\benable javascript and cookies\b|\bverify (?:that )?you are (?:a )?human\b"
            r"|\bare you a robot\b|\bcaptcha\b|\battention required\b|\bddos protection\b"
            r"|\bunusual traffic\b|\bpress (?:&|and) hold\b"
            r"|\baccess (?:to this page has been )?denied\b"
            r"|\bplease (?:enable|turn on) javascript\b|\bbot (?:protection|verification)\b",
            _I,
        ),
    ),
    (
        "consent",
        re.compile(
            r"\bwe value your privacy\b|\bwe and our (?:\d+ )?(?:partners|vendors)\b"
            r"|\bcookie (?:consent|settings|preferences|policy)\b|\baccept (?:all )?cookies\b"
            r"|\bmanage (?:cookie|privacy|consent) (?:settings|preferences|options)\b"
            r"|\b(?:use of|we use) cookies\b|\bbefore you continue\b|\bprivacy choices\b"
            r"|\bconsent to (?:the use of|our use of)\b|\breject all\b",
            _I,
        ),
    ),
    (
        "paywall",
        re.compile(
            r"\bsubscribe (?:now )?to (?:continue|keep) reading\b"
            r"|\bto (?:continue|keep) reading,? (?:please )?(?:subscribe|log in|sign in|register)"
            r"|\b(?:article|content|story) is (?:only )?(?:available|reserved|exclusive)"
            r" (?:to|for) (?:paying )?(?:subscribers|members)\b|\bsubscribers?[- ]only\b"
            r"|\balready a subscriber\b|\byou(?:'ve| have) reached (?:your|the) (?:free )?"
            r"(?:article|story|monthly) limit\b|\bunlock (?:this|full) (?:article|story)\b",
            _I,
        ),
    ),
    (
        "error-page",
        re.compile(
            r"\b(?:page|article|content) (?:was )?not found\b|\b404\b|\berror (?:404|500|503)\b"
            r"|\bthe page you (?:are|were) looking for\b|\binternal server error\b"
            r"|\bservice (?:temporarily )?unavailable\b|\bbad gateway\b"
            r"|\b(?:is|are) no longer available\b|\bpage (?:does not|doesn't) exist\b",
            _I,
        ),
    ),
]


def wall_reason(*texts: str | None) -> str | None:
    """The kind of non-article page the texts show (``"consent"``, ...), or ``None``."""
    joined = "\n".join(t for t in texts if t)
    if not joined:
        return None
    for reason, pattern in _WALLS:
        if pattern.search(joined):
            return reason
    return None
