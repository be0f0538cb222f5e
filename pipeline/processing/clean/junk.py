"""Rules for the kinds of page furniture that survive extraction, one line at a time.

Each rule names a kind of junk (ad markers, image placeholders, share prompts, pleas,
legal notices, read-more lists, comment widgets). ``classify_line`` returns the rule
that drops a line, or ``None`` to keep it. A comment widget near the end of an article
starts the *tail*: it and everything after it go (``is_tail_start``). A stray share
prompt glued to the end of a paragraph is cut by ``strip_trailing_prompt``.

The rules match shapes, not site names: a line must be short and look like furniture;
sentences of reporting that mention the same words are kept. For speed, *start* rules
are anchored (``re.match``) and *anywhere* rules only run when one of their trigger
words is in the line, so a long article costs a few microseconds a line.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_I = re.IGNORECASE
_MAX_WORDS = 45  # longer lines are prose: no rule drops them


class Rule(NamedTuple):
    name: str  # the verdict's label (the kind of junk)
    switch: str  # the rule's own name in ``rules.RULES`` (to turn it off)
    pattern: re.Pattern[str]
    max_words: int
    triggers: tuple[str, ...] = ()  # anywhere rules: lower-case substrings one of which must occur


# Rules anchored at the start of the line (the whole line is the furniture).
_START_RULES = [
    Rule("ad-marker", "ad-marker", re.compile(
        r"\W*(?:advertisements?|advertising|advertorial|ads?|sponsored(?: content| links?)?"
        r"|paid (?:content|post)|promoted(?: content)?|ad feedback|skip (?:this )?ad"
        r"|(?:story|article|text) continues (?:below|after)(?: (?:this|the))?"
        r"(?: advertisement| ad)?|continue reading (?:below|the main story)"
        r"|scroll (?:down )?to continue(?: with content| reading)?)\W*$", _I), 8),
    Rule("image-placeholder", "image-placeholder", re.compile(
        r"\W*(?:img|image|images|photo|photos|picture|pictures|graphic|video|gallery|icon"
        r"|logo|thumbnail|media|embed|slideshow|infographic)(?: \d+(?: of \d+)?)?\W*$",
        _I), 30),
    Rule("image-placeholder", "image-credit", re.compile(
        r"\W*(?:photo|image|picture|photograph|illustration|video|graphic)s?"
        r"(?: credits?)?\s*(?::|by\b|©|/)"
        r"|\W*(?:credits?|source)\s*:\s*\S+(?:\s+\S+){0,6}\s*(?:images?|photos?|/\s*\w+)\W*$",
        _I), 30),
    Rule("share-prompt", "share-prompt", re.compile(
        r"\W*(?:share|shares|share this(?: article| story| post| page)?"
        r"|share (?:on|via|to) [\w ]{1,20}|share full article|tweet|e-?mail|print|copy link"
        r"|link copied|facebook|twitter|linkedin|whatsapp|reddit|pinterest|flipboard|telegram"
        r"|follow|follow us(?: on .{1,40})?|follow @\w+(?: on \w+)?|click to share.{0,40}"
        r"|save(?: article| story)?|bookmark|listen(?: to this article)?(?: \d+ min)?"
        r"|\d+ min(?:ute)?s? read|gift (?:this )?article)\W*$", _I), 8),
    Rule("read-more", "read-more", re.compile(
        r"\W*(?:read more|read also|also read|see also|more reading|recommended reading"
        r"|related(?: articles?| stories| coverage| content| posts?| links?| reading)?"
        r"|more (?:stories|news|coverage) (?:from|on|about)\b.*|more from\b.*"
        r"|recommended(?: for you)?|you (?:may|might) also (?:like|be interested in)"
        r"|most (?:read|popular|viewed|shared)|trending(?: now| stories)?|top stories"
        r"|popular(?: now| stories)?|latest (?:news|stories))\s*(?:[:>»|-].*)?$", _I), 30),
    # "READ MORE: <linked headline>" and the like.
    Rule("read-more", "read-more-label", re.compile(
        r"\W*(?:read more|read also|also read|see also|related|more|watch|listen|recommended)"
        r"\s*[:|»>]", _I), 30),
    Rule("plea", "plea-consent", re.compile(
        r"\W*by (?:signing up|subscribing|registering|clicking|continuing|submitting"
        r"|creating an account)\b.*\b(?:agree|consent|accept)", _I), 40),
    # Short calls to action; a sentence that starts the same way ends with a period.
    Rule("plea", "plea-call", re.compile(
        r"\W*(?:please )?(?:support|donate(?: to)?|subscribe to|become an? "
        r"(?:member|patron|subscriber|supporter)|join and support)\b.{0,80}(?<![.,;:])$"
        r"|\W*(?:already a (?:subscriber|member)|log in|sign in|register|subscribe"
        r"|subscribe now|sign up|donate|donate now)\b.{0,40}(?<![.,;:])$", _I), 14),
    Rule("copyright", "copyright", re.compile(r"\W*(?:©|\(c\)|copyright\b)", _I), 30),
]

# Rules that may match anywhere in a short line, gated by trigger words.
_ANYWHERE_RULES = [
    Rule("image-placeholder", "image-credit-parenthetical", re.compile(
        r"\((?:ap|afp|reuters|getty|epa|photo)\b[^()]*(?:photo|images?|/)[^()]*\)\W*$", _I),
        30, ("(",)),
    Rule("plea", "plea-account", re.compile(
        r"\bremind me (?:next month|later|next year)\b"
        r"|\bcreate an? (?:free )?account (?:at|on|with|to (?:get|receive|read|continue))\b",
        _I), 40, ("remind me", "account")),
    Rule("plea", "plea-newsletter", re.compile(
        r"\b(?:sign up|subscribe|register)\b.{0,60}\bnewsletters?\b"
        r"|\bnewsletters?\b.{0,60}\b(?:sign up|subscribe|create an account|inbox)\b",
        _I), 40, ("newsletter",)),
    Rule("privacy-notice", "privacy-notice", re.compile(
        r"\b(?:visit|read|see|review|agree to|accept|consult) (?:our|the)\b.{0,40}"
        r"\b(?:privacy|cookie) (?:policy|notice|statement)"
        r"|\bour (?:privacy|cookie) (?:policy|notice|statement)\b|\bwe use cookies\b"
        r"|\baccept (?:all )?cookies\b|\bcookie (?:settings|preferences|consent)\b"
        r"|\bdo not sell(?: or share)? my personal information\b"
        r"|\b(?:you agree to|our) terms (?:of|and) (?:use|service|conditions)\b"
        r"|\bpersonal data we collect\b", _I),
        45, ("privacy", "cookie", "personal", "terms")),
    # The author's contact footer: "Contact Jane Doe at jdoe@x.com", "Reach her at ...",
    # "... can be reached at", "Follow him @jdoe". Appeals for information name the police,
    # a detective or "anyone with information": reporting, kept.
    Rule("contact-line", "contact-line", re.compile(
        r"^(?!.*\b(?:anyone|information|info|crime ?stoppers|detectives?|police|sheriff"
        r"|anonymous(?:ly)?)\b)"
        r"(?:\W*(?:contact|reach|e-?mail|follow)\s+(?:the (?:writer|author|reporter)\b"
        r"|(?:him|her|me|us|them)\b|[A-Z][\w.'’-]+)"
        r"|.*?(?:\b(?:can|may) be reached\b"
        r"|\b(?:reach|e-?mail|follow|find) (?:him|her|me|us|them)\b"
        r"|\b(?:contact|e-?mail) the (?:writer|author|reporter)\b|\bfollow @\w|\be-?mail:\s*\S+@))",
        _I), 40, ("@",)),
    Rule("copyright", "copyright-anywhere",
         re.compile(r"©\s*(?:\d{4}|copyright)|\ball rights reserved\b", _I),
         30, ("©", "rights reserved")),
]

# All start rules in one anchored pattern: one match attempt rejects most lines.
_ANY_START = re.compile("|".join(f"(?:{rule.pattern.pattern})" for rule in _START_RULES), _I)

_TAIL = re.compile(
    r"\W*(?:\d+\s+)?comments?\W*$|\W*(?:sign|log) ?in to (?:comment|reply|join)"
    r"|\W*(?:leave|add|post|write|submit) an? (?:comment|reply)"
    r"|\W*comments are (?:closed|moderated)|\W*(?:join|start) the (?:conversation|discussion)"
    r"|\W*powered by\b.{0,60}\bcomments?\W*$|\W*(?:view|show|load|see|read) (?:all )?"
    r"(?:\d+ )?comments?\b|\W*(?:discussion|conversation|responses|reader comments)\W*$",
    _I,
)

_TRAILING_PROMPT = re.compile(
    r"(?<=[.!?\"”’)\]])\s+(?:share|tweet|e-?mail|print|share this(?: article)?)\s*$", _I
)


def classify_line(line: str, disabled: frozenset[str] = frozenset()) -> str | None:
    """The junk rule that drops ``line`` (its label), or ``None`` if it is kept; rules
    named in ``disabled`` (``rules.RULES``) are skipped."""
    words = line.count(" ") + 1
    if words > _MAX_WORDS:
        return None
    if _ANY_START.match(line):
        for rule in _START_RULES:
            if words <= rule.max_words and rule.switch not in disabled and rule.pattern.match(line):
                return rule.name
    lower = line.lower()
    for rule in _ANYWHERE_RULES:
        if (
            words <= rule.max_words
            and any(t in lower for t in rule.triggers)
            and rule.switch not in disabled
            and rule.pattern.search(line)
        ):
            return rule.name
    return None


def is_tail_start(line: str) -> bool:
    """Whether ``line`` opens a comment widget (dropped with everything after it)."""
    return line.count(" ") < 12 and _TAIL.match(line) is not None


def strip_trailing_prompt(line: str) -> str:
    """Cut a stray share/print prompt glued to the end of a paragraph."""
    if line[-1:].isalpha() and _TRAILING_PROMPT.search(line):
        return _TRAILING_PROMPT.sub("", line)
    return line
