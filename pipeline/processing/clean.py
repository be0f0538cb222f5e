"""The clean stage: RawArticle → Article (main text, metadata, identity). Pure: no I/O.

    html ─extract (trafilatura)─┐
                                ├─▶ lines ─normalise─▶ junk rules ─▶ head (dateline, headline,
    text / summary ─────────────┘       byline) ─▶ duplicates ─▶ paragraphs + metadata ─▶ Article

Every line of input gets a verdict: kept, dropped by a named rule, or moved into a
metadata field. ``Cleaner.explain`` returns those verdicts (``newswire extract
--explain`` prints them); ``Cleaner.clean`` returns the article. Pages with no usable
text raise ``NotAnArticle`` (consent, paywall, bot challenge, error page, empty).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import py3langid

from pipeline.errors import InvalidInput, NotAnArticle
from pipeline.identity import article_id
from pipeline.models import Article, RawArticle
from pipeline.processing import header, junk
from pipeline.processing.extract import (
    Extracted,
    extract_html,
    fragment_text,
    is_fragment,
    looks_like_html,
)
from pipeline.processing.normalize import normalize_text, repair, squash
from pipeline.processing.walls import wall_reason

logger = logging.getLogger(__name__)

KEEP = "keep"
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)]*$")
_HEAD_WINDOW = 8  # how many kept lines from the top may hold a dateline, headline or byline
# Sizes in characters (not words, so that unspaced scripts count the same).
_MIN_HTML_CHARS = 120  # less text extracted from a page: not an article
_WALL_CHARS = 900  # a page with a wall's wording and less text is that wall
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
class Explanation:
    """The line-by-line account of a clean: verdicts, the result or the refusal."""

    verdicts: list[Verdict] = field(default_factory=list)
    article: Article | None = None
    error: str | None = None

    @property
    def kept(self) -> list[str]:
        return [v.line for v in self.verdicts if v.kept]

    @property
    def dropped(self) -> list[Verdict]:
        return [v for v in self.verdicts if not v.kept]


@dataclass(slots=True)
class _Pass:
    """Working state of the text pass over one article."""

    verdicts: list[Verdict]
    title: str | None = None
    author: str | None = None
    published: datetime | None = None


class Cleaner:
    """Turns a RawArticle into a clean Article; stateless and safe to share."""

    def clean(self, raw: RawArticle) -> Article:
        """Raises ``InvalidInput`` (no body at all) or ``NotAnArticle`` (no usable text)."""
        return self._run(raw).article  # type: ignore[return-value]

    def explain(self, raw: RawArticle) -> Explanation:
        """Like ``clean`` but returns every line's verdict; refusals go in ``error``."""
        try:
            return self._run(raw)
        except (InvalidInput, NotAnArticle) as exc:
            return Explanation(error=str(exc))

    def _run(self, raw: RawArticle) -> Explanation:
        url = str(raw.url)
        extracted: Extracted | None = None
        if raw.html and raw.html.strip():
            if not looks_like_html(raw.html):
                body = raw.html  # plain text sent as HTML
            elif is_fragment(raw.html):
                body = fragment_text(raw.html)
            else:
                extracted = extract_html(raw.html, url)
                body = extracted.text
        elif raw.text and raw.text.strip():
            body = raw.text
        elif raw.summary and raw.summary.strip():
            body = raw.summary
        else:
            raise InvalidInput(f"article {url} has neither html nor text")
        work = text_pass(body, known_title=raw.title or (extracted.title if extracted else None))
        text = "\n\n".join(v.line for v in work.verdicts if v.kept)
        self._refuse_non_articles(text, body, raw, extracted)
        title = _title(raw, extracted, work, text)
        article = Article(
            id=raw.id or article_id(url, raw.guid, text),
            url=url,
            title=title,
            text=text,
            author=raw.author or (extracted.author if extracted else None) or work.author,
            published=raw.published or (extracted.published if extracted else None)
            or work.published,
            source=_source(raw, extracted),
            lang=detect_language(text),
            feed_url=raw.feed_url,
            fetched=raw.fetched,
        )
        return Explanation(verdicts=work.verdicts, article=article)

    @staticmethod
    def _refuse_non_articles(
        text: str, body: str, raw: RawArticle, extracted: Extracted | None
    ) -> None:
        url = str(raw.url)
        size = len(text)
        if size < _WALL_CHARS:
            page_title = extracted.page_title if extracted else None
            reason = wall_reason(page_title, body if size else raw.html or body)
            if reason and (size < _MIN_HTML_CHARS or _wall_dominates(text, reason)):
                raise NotAnArticle(reason, url)
        if not any(ch.isalnum() for ch in text):
            raise NotAnArticle("empty", url)
        if extracted is not None and size < _MIN_HTML_CHARS:
            raise NotAnArticle("no main text", url)


def _wall_dominates(text: str, reason: str) -> bool:
    """Whether a short text is mostly a wall's wording (half its lines name the wall)."""
    lines = text.split("\n\n")
    hits = sum(1 for line in lines if wall_reason(line) == reason)
    return hits * 2 >= len(lines)


def text_pass(body: str, known_title: str | None = None) -> _Pass:
    """Normalise and clean ``body``; return the verdict of each of its lines."""
    lines = normalize_text(body)
    work = _Pass(verdicts=[])
    kept: list[int] = []  # indices into work.verdicts of kept lines
    in_tail = False
    for line in lines:
        if in_tail:
            work.verdicts.append(Verdict(line, "comment-tail"))
            continue
        if junk.is_tail_start(line):
            in_tail = _has_reporting(work.verdicts)
            work.verdicts.append(Verdict(line, "comment-tail" if in_tail else "comment-widget"))
            continue
        rule = junk.classify_line(line)
        if rule is None:
            kept.append(len(work.verdicts))
            line = junk.strip_trailing_prompt(line)
        work.verdicts.append(Verdict(line, rule or KEEP))
    _head(work, kept, known_title)
    _deduplicate(work)
    return work


def _has_reporting(verdicts: list[Verdict]) -> bool:
    """Whether kept lines so far hold some reporting (a comment widget can end it)."""
    return sum(len(v.line) for v in verdicts if v.kept) >= _REPORTING_CHARS


def _head(work: _Pass, kept: list[int], known_title: str | None) -> None:
    """Move a leading dateline, a headline and a byline from the top lines to metadata."""
    if not kept:
        return
    verdicts = work.verdicts
    first = kept[0]
    line = verdicts[first].line
    date, rest = header.take_dateline(line)
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
    if known_title and _repeats_title(line, known_title):
        verdicts[window[0]] = Verdict(line, "title")
    elif not known_title and header.parse_byline(line, following[0]) is None and (
        header.is_headline(line, following[0])
    ):
        work.title = line
        verdicts[window[0]] = Verdict(line, "title")
    for index, next_line in zip(window, following, strict=True):
        if verdicts[index].kept:
            author = header.parse_byline(verdicts[index].line, next_line)
            if author:
                work.author = author
                verdicts[index] = Verdict(verdicts[index].line, "author")
                break


_TITLE_SEPARATOR = re.compile(r"\s+[|\-–—:·»]+\s+")


def _repeats_title(line: str, title: str) -> bool:
    """Whether ``line`` is the title, or the title without its " | Site name" part."""
    key, title_key = squash(line), squash(repair(title))
    if not key:
        return False
    return key == title_key or any(
        key == squash(part) for part in _TITLE_SEPARATOR.split(title) if len(part) > 15
    )


def _strip_site_name(title: str, sitename: str | None) -> str:
    """Drop a trailing or leading " | Site name" from a page title."""
    parts = _TITLE_SEPARATOR.split(title)
    if len(parts) > 1 and sitename:
        site = squash(sitename)
        kept = [p for p in parts if squash(p) != site]
        if kept and len(kept) < len(parts):
            return " - ".join(kept)
    return title


def _deduplicate(work: _Pass) -> None:
    """Keep the first of repeated paragraphs of prose (lists and recipes may repeat lines)."""
    seen: set[str] = set()
    for i, verdict in enumerate(work.verdicts):
        line = verdict.line
        if not verdict.kept or line.count(" ") < _DUPLICATE_WORDS - 1 or not _SENTENCE_END.search(
            line
        ):
            continue
        key = line.casefold()
        if key in seen:
            work.verdicts[i] = Verdict(verdict.line, "duplicate")
        else:
            seen.add(key)


def _title(raw: RawArticle, extracted: Extracted | None, work: _Pass, text: str) -> str:
    page = None
    if extracted and extracted.title:
        page = _strip_site_name(extracted.title, extracted.sitename)
    for candidate in (raw.title, page, work.title):
        if candidate and candidate.strip():
            return " ".join(repair(candidate).split())
    first = text.split("\n", 1)[0]
    words = first.split()
    return " ".join(words[:12]) + (" …" if len(words) > 12 else "") if words else "(untitled)"


def _source(raw: RawArticle, extracted: Extracted | None) -> str:
    if raw.source:
        return raw.source
    if extracted and extracted.sitename:
        return extracted.sitename
    host = (urlsplit(str(raw.url)).hostname or "").lower()
    return host.removeprefix("www.") or "unknown"


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text`` from a sample of its start (py3langid), if any text."""
    sample = text[:256]
    if not sample.strip():
        return None
    lang, _score = py3langid.classify(sample)
    return str(lang)
