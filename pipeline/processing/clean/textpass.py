"""newswire's own text pass: every line of an article's text gets a verdict.

    lines ─normalise─▶ junk rules + comment tail ─▶ head (dateline, headline, byline)
          ─▶ repeated paragraphs ─▶ verdicts (kept, dropped by a rule, moved to metadata)

Pure and fast (no extraction, no I/O): text articles go through at thousands a second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from pipeline.processing.clean import header, junk
from pipeline.processing.clean.normalize import normalize_text, repair, squash
from pipeline.processing.clean.source_junk import fingerprint, is_candidate

KEEP = "keep"
LEARNED = "learned-source-junk"
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)]*$")  # what _ends_sentence tells, faster
_END_MARKS = frozenset(".!?…")
_CLOSERS = "\"'”’»)"
_SPACED_DIGIT = re.compile(" [0-9]")  # a word after a space that is a number (ASCII)
_HEAD_WINDOW = 8  # how many kept lines from the top may hold a dateline, headline or byline
_REPORTING_CHARS = 250  # kept text before a comment widget for it to end the article
_DUPLICATE_WORDS = 12  # paragraphs this long and sentence-like are kept once


@dataclass(frozen=True, slots=True)
class Verdict:
    """One input line and what happened to it: ``rule`` is ``"keep"``, a junk rule, or
    ``"title"``/``"author"``/``"published"`` for a line moved into metadata."""

    line: str
    rule: str

    @property
    def kept(self) -> bool:
        return self.rule == KEEP


@dataclass(slots=True)
class TextPass:
    """The verdicts on one article's lines and the metadata its head held."""

    verdicts: list[Verdict]
    title: str | None = None
    author: str | None = None
    published: datetime | None = None


def text_pass(
    body: str, known_title: str | None = None, learned: frozenset[str] = frozenset(),
    disabled: frozenset[str] = frozenset(), known_author: str | None = None,
) -> TextPass:
    """Normalise and clean ``body``; return the verdict of each of its lines.

    ``learned`` holds fingerprints of lines learned as junk for the article's source
    (``source_junk.py``); they are dropped unless that would take most of the text.
    Rules named in ``disabled`` (``rules.RULES``) are off. ``known_author`` (feed or page
    metadata) decides whether a line with a bare name and no "By" is the byline.
    """
    tail_rule = "comment-tail" not in disabled
    trailing = "trailing-prompt" not in disabled
    lines = normalize_text(body)
    work = TextPass(verdicts=[])
    kept: list[int] = []  # indices into work.verdicts of kept lines
    in_tail = False
    for line in lines:
        if in_tail:
            work.verdicts.append(Verdict(line, "comment-tail"))
            continue
        if tail_rule and junk.is_tail_start(line):
            in_tail = _has_reporting(work.verdicts)
            work.verdicts.append(Verdict(line, "comment-tail" if in_tail else "comment-widget"))
            continue
        rule = junk.classify_line(line, disabled)
        if rule is None and learned and is_candidate(line) and fingerprint(line) in learned:
            rule = LEARNED
        if rule is None:
            kept.append(len(work.verdicts))
            if trailing:
                line = junk.strip_trailing_prompt(line)
        work.verdicts.append(Verdict(line, rule or KEEP))
    if learned:
        kept = _only_trim(work.verdicts, kept)
    _head(work, kept, known_title, disabled, known_author)
    if "duplicate" not in disabled:
        _deduplicate(work)
    return work


def _only_trim(verdicts: list[Verdict], kept: list[int]) -> list[int]:
    """Undo learned drops that would take most of the text (a source's template-like
    articles must not vanish); return the indices of kept lines."""
    dropped = sum(len(v.line) for v in verdicts if v.rule == LEARNED)
    if not dropped or dropped <= sum(len(verdicts[i].line) for i in kept):
        return kept
    for i, verdict in enumerate(verdicts):
        if verdict.rule == LEARNED:
            verdicts[i] = Verdict(verdict.line, KEEP)
    return [i for i, v in enumerate(verdicts) if v.kept]


def _has_reporting(verdicts: list[Verdict]) -> bool:
    """Whether kept lines so far hold some reporting (a comment widget can end it)."""
    return sum(len(v.line) for v in verdicts if v.kept) >= _REPORTING_CHARS


def _head(
    work: TextPass, kept: list[int], known_title: str | None, disabled: frozenset[str],
    known_author: str | None = None,
) -> None:
    """Move a leading dateline, a headline and a byline from the top lines to metadata."""
    if not kept:
        return
    verdicts = work.verdicts
    first = kept[0]
    line = verdicts[first].line
    date, rest = (None, line) if "dateline" in disabled else header.take_dateline(line)
    if date is not None:
        work.published = date
        verdicts[first] = Verdict(line[: len(line) - len(rest)].strip(), "published")
        if rest:  # the dateline prefixed the lead: keep the rest as its own line
            verdicts.insert(first + 1, Verdict(rest, KEEP))
            kept = [first + 1] + [i + 1 for i in kept[1:]]
        else:
            kept = kept[1:]
    if not kept:
        return
    window = kept[:_HEAD_WINDOW]
    following = [verdicts[i].line for i in window[1:]] + [None]
    line = verdicts[window[0]].line
    if known_title:
        if "title-repeat" not in disabled and _repeats_title(line, known_title):
            verdicts[window[0]] = Verdict(line, "title")
    elif "headline" not in disabled and header.parse_byline(line, following[0]) is None and (
        header.is_headline(line, following[0])
    ):
        work.title = line
        verdicts[window[0]] = Verdict(line, "title")
    if "byline" in disabled:
        return
    for index, next_line in zip(window, following, strict=True):
        if verdicts[index].kept:
            author = header.parse_byline(verdicts[index].line, next_line, known_author)
            if author:
                work.author = author
                verdicts[index] = Verdict(verdicts[index].line, "author")
                break

TITLE_SEPARATOR = re.compile(r"\s+[|\-–—:·»]+\s+")


def _repeats_title(line: str, title: str) -> bool:
    """Whether ``line`` is the title, or the title without its " | Site name" part."""
    key, title_key = squash(line), squash(repair(title))
    if not key:
        return False
    return key == title_key or any(
        key == squash(part) for part in TITLE_SEPARATOR.split(title) if len(part) > 15
    )


def _deduplicate(work: TextPass) -> None:
    """Keep the first of repeated paragraphs of prose (lists and recipes may repeat lines)."""
    seen: set[str] = set()
    for i, verdict in enumerate(work.verdicts):
        line = verdict.line
        if not verdict.kept or line.count(" ") < _DUPLICATE_WORDS - 1 or not _ends_sentence(
            line
        ) or _is_listing(line):
            continue
        key = line.casefold()
        if key in seen:
            work.verdicts[i] = Verdict(verdict.line, "duplicate")
        else:
            seen.add(key)


def _ends_sentence(line: str) -> bool:
    """``_SENTENCE_END.search(line)`` read from the end: an end mark, then closing quotes or
    brackets only (the two sets share no character)."""
    if line.endswith("\n"):  # "$" also matches before a final newline
        line = line[:-1]
    return line.rstrip(_CLOSERS)[-1:] in _END_MARKS


def _is_listing(line: str) -> bool:
    """A line of quantities ("1 Green, 1 Red, 1 tsp."): a list or recipe row, which may
    rightly repeat, not prose (a fifth or more of its words are numbers)."""
    if line.isascii():  # the same count, 4 × faster: a word starts the line or follows " "
        numbers = line[:1].isdigit() + len(_SPACED_DIGIT.findall(line))
        return numbers * 5 >= line.count(" ") + 1
    words = line.split(" ")
    return sum(1 for w in words if w[:1].isdigit()) * 5 >= len(words)

